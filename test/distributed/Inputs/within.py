"""Runs a command and fails unless it ends within a time limit.

    within.py SECONDS COMMAND [ARGS...]

Prints the command's output (stdout and stderr together), then
"exit status N after T s"; exits 1 if the command was still running after
SECONDS (it is then killed), else 0, whatever the command's own status.
"""
import subprocess
import sys
import time

limit = float(sys.argv[1])
start = time.monotonic()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, start_new_session=True)
try:
    out, _ = proc.communicate(timeout=limit)
except subprocess.TimeoutExpired:
    proc.kill()
    out, _ = proc.communicate()
    sys.stdout.write(out.decode(errors="replace"))
    print("TIMEOUT: still running after %.0f s" % limit)
    sys.exit(1)
sys.stdout.write(out.decode(errors="replace"))
print("exit status %d after %.1f s" % (proc.returncode, time.monotonic() - start))
