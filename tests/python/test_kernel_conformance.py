"""The mlsys kernel against jupyter_kernel_test's protocol conformance suite."""

import unittest

import jupyter_kernel_test
from jupyter_kernel_test.msgspec_v5 import validate_message

TIMEOUT = 15


class MlsysKernelTests(jupyter_kernel_test.KernelTests):
    """Every jupyter_kernel_test check that applies to a magics kernel."""

    kernel_name = "mlsys"
    language_name = "rust"
    file_extension = ".rs"

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
    complete_code_samples = ["%help", "%lsmagic\n%help lsmagic", ""]
    invalid_code_samples = ["%help\nnot a magic line"]

    code_inspect_sample = "%help"

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
