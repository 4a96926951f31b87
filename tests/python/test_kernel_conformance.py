"""The mlsys kernel against jupyter_kernel_test's protocol conformance suite.

Every check of the suite runs: magics for results, errors, completion and history, Rust cells
for stdout and stderr (one kernel for the class, whose Rust worker starts before the checks),
except the two the kernel has nothing for, each skipped with its reason below.
"""

import unittest

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel
from jupyter_kernel_test.msgspec_v5 import validate_message
from notebook_support import rust_cells_env

TIMEOUT = 15
# The first Rust cell starts the evcxr worker and compiles the lab model (a minute on 2 cores).
FIRST_RUST_CELL_TIMEOUT = 900


class MlsysKernelTests(jupyter_kernel_test.KernelTests):
    """Every jupyter_kernel_test check that applies to a magics kernel."""

    kernel_name = "mlsys"
    language_name = "rust"
    file_extension = ".rs"

    @classmethod
    def setUpClass(cls) -> None:
        """One kernel for the class, its Rust worker started so Rust samples answer in seconds."""
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, env=rust_cells_env())
        reply = cls.kc.execute_interactive(
            "()", timeout=FIRST_RUST_CELL_TIMEOUT, output_hook=lambda msg: None
        )
        assert reply["content"]["status"] == "ok", reply["content"]

    # Rust cells print through evcxr; the kernel streams them as stdout / stderr.
    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("to stderr");'

    code_execute_result = [
        {"code": "%lsmagic", "mime": "text/plain"},
        {"code": "%help lsmagic", "mime": "text/plain"},
    ]
    # Every result but a magic cell's last is shown as display_data.
    code_display_data = [{"code": "%lsmagic\n%help", "mime": "text/plain"}]
    code_generate_error = "%no_such_magic"

    completion_samples = [
        {"text": "%lsm", "matches": {"%lsmagic"}},
        {"text": "%he", "matches": {"%help"}},
    ]
    # Magic cells, and Rust cells judged by rustc's lexer: open brackets, strings (raw ones
    # too), char literals and block comments (nested ones too) make a cell incomplete, so a
    # console continues the line.
    complete_code_samples = [
        "%help",
        "%lsmagic\n%help lsmagic",
        "",
        "fn f() {}",
        'let s = "a } in a string";',
        "let c = '}';",
        "/* a /* nested */ comment */ 1",
    ]
    incomplete_code_samples = [
        "fn f() {",
        "let v = vec![1,\n    2,",
        'let s = "open',
        'let r = r#"raw " string',
        "let c = '",
        "/* a /* nested */ comment",
    ]
    invalid_code_samples = ["%help\nnot a magic line", "fn f() }", "let t = (1, 2];"]

    code_inspect_sample = "%help"

    @unittest.skip(
        "the kernel has no pager: help (%help, inspect_request) is shown inline, and no reply "
        "carries a `page` payload"
    )
    def test_pager(self) -> None:
        """Skipped: nothing in the kernel pages."""

    @unittest.skip(
        "the kernel never sends clear_output: a live instrument redraws its widgets through "
        "comm messages, and magics and Rust cells only add outputs"
    )
    def test_clear_output(self) -> None:
        """Skipped: nothing in the kernel clears a cell's output."""

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "%help ls*"

    def test_comm_info(self) -> None:
        """comm_info_reply lists open comms (none yet) and validates."""
        self.flush_channels()
        msg_id = self.kc.comm_info()
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "comm_info_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(reply["content"]["comms"], {})

    def test_iopub_statuses_frame_every_request(self) -> None:
        """busy then idle, parented to the request, around a non-execute request too."""
        self.flush_channels()
        msg_id = self.kc.complete("%he")
        self.get_non_kernel_info_reply(timeout=TIMEOUT)
        states = []
        while not states or states[-1] != "idle":
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            validate_message(msg, msg["msg_type"], msg_id)
            if msg["msg_type"] == "status":
                states.append(msg["content"]["execution_state"])
        self.assertEqual(states, ["busy", "idle"])

    def test_error_reply_is_readable(self) -> None:
        """An unknown magic names itself and points at %help."""
        self.flush_channels()
        reply, outputs = self.execute_helper("%no_such_magic")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "UsageError")
        self.assertIn("%no_such_magic", reply["content"]["evalue"])
        self.assertIn("%help", outputs[0]["content"]["evalue"])


class MlsysIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    """The kernel's iopub is XPUB: a new subscriber is greeted with iopub_welcome (JEP 65)."""

    kernel_name = "mlsys"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
