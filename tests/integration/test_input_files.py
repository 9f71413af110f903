"""Files sesctl reads must be regular files: a FIFO (or a directory, a
device) as ~/.aws/config, ~/.aws/credentials or `smtp verify
--credentials-file` is refused at once with a message naming the path,
where it used to wait forever for a writer.  Every run has a timeout, so
a hang fails the test instead of stalling the suite."""
import os
import subprocess
import tempfile
import time
import unittest

from sesctl_test import EXAMPLE_SECRET, SesctlTestCase, clean_env, command

TIMEOUT = 20


class NonRegularFilesRefused(SesctlTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        os.mkdir(os.path.join(self.tmp, ".aws"))
        self.fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(self.fifo)
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for root, dirs, files in os.walk(self.tmp, topdown=False):
            for name in files:
                os.unlink(os.path.join(root, name))
            for name in dirs:
                os.rmdir(os.path.join(root, name))
        os.rmdir(self.tmp)

    def run_quickly(self, args, env):
        start = time.monotonic()
        try:
            p = subprocess.run(command(args), stdin=subprocess.DEVNULL,
                               capture_output=True, env=env,
                               timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("sesctl %s hung on a FIFO" % " ".join(args))
        self.assertLess(time.monotonic() - start, TIMEOUT)
        return p

    def assertRefused(self, p, path, kind="a FIFO"):
        self.assertExit(p, 2)
        self.assertIn("'%s' is not a regular file (%s); give the path of a "
                      "file" % (path, kind), p.stderr.decode())
        self.assertEqual(p.stdout, b"")

    def test_verify_credentials_file_fifo(self):
        p = self.run_quickly(["smtp", "verify", "--credentials-file",
                              self.fifo], clean_env(HOME=self.tmp))
        self.assertRefused(p, self.fifo)

    def test_verify_credentials_file_directory(self):
        p = self.run_quickly(["smtp", "verify", "--credentials-file",
                              self.tmp], clean_env(HOME=self.tmp))
        self.assertRefused(p, self.tmp, "a directory")

    def test_aws_config_fifo(self):
        # derive without --region reads the region from ~/.aws/config.
        config = os.path.join(self.tmp, ".aws", "config")
        os.mkfifo(config)
        p = self.run_quickly(["smtp", "derive", "--from-env"],
                             clean_env(HOME=self.tmp,
                                       AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET))
        self.assertRefused(p, config)

    def test_shared_credentials_file_fifo(self):
        p = self.run_quickly(["smtp", "status"],
                             clean_env(HOME=self.tmp,
                                       AWS_REGION="eu-west-1",
                                       AWS_SHARED_CREDENTIALS_FILE=self.fifo))
        self.assertRefused(p, self.fifo)

    def test_dev_null_config_still_reads_as_empty(self):
        p = self.run_quickly(["smtp", "derive", "--from-env", "--region",
                              "eu-west-1"],
                             clean_env(HOME=self.tmp,
                                       AWS_CONFIG_FILE="/dev/null",
                                       AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET))
        self.assertExit(p, 0)


if __name__ == "__main__":
    unittest.main()
