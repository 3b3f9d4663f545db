"""The kernel of a graded notebook, exec'd: `python -m grader_service.convert.kernel_launcher -f FILE
[--Class.trait=value ...]`. As `ipykernel_launcher` starts one, but set up as a forked kernel is
(`kernel.run_kernel`)."""

import sys

from grader_service.convert.kernel import run_kernel

if __name__ == "__main__":
    run_kernel(sys.argv[1:])
