// Searchable, sortable tables: a table with data-sortable gets sort buttons in its
// header cells; an input with data-filter="<table id>" hides rows that do not match.
// Without this script the tables are plain, complete HTML tables.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table[data-sortable]")) {
    const heads = table.tHead.rows[0].cells;
    Array.from(heads).forEach((th, column) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        for (const other of heads) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const key = (row) => row.cells[column].dataset.sort ?? row.cells[column].textContent.trim();
        const rows = Array.from(table.tBodies[0].rows);
        rows.sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          const [nx, ny] = [parseFloat(x), parseFloat(y)];
          const order = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
          return ascending ? order : -order;
        });
        for (const row of rows) table.tBodies[0].appendChild(row);
      });
    });
  }
  for (const input of document.querySelectorAll("input[data-filter]")) {
    const table = document.getElementById(input.dataset.filter);
    const count = document.getElementById(input.dataset.filter + "-count");
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      let shown = 0;
      for (const row of table.tBodies[0].rows) {
        const match = row.textContent.toLowerCase().includes(needle);
        row.hidden = !match;
        if (match) shown += 1;
      }
      if (count) count.textContent = `${shown} of ${table.tBodies[0].rows.length} students shown`;
    });
  }
});
