# Stopping the jobs with Snakemake: a signal sent to Snakemake alone reaches its jobs too.
import contextlib
import os
import signal

from mnistflow.plumbing.supervisor import descendants


def stop_jobs_on_signals():
    """Make SIGTERM and SIGINT sent to Snakemake alone (`kill PID`, a batch system) stop its jobs.

    By itself Snakemake waits for running jobs to finish after either signal; this handler, put in
    front of Snakemake's own (`onstart`, once the scheduler has set it), first passes the same signal
    to every process below Snakemake, so a job stops at once, removes its temporaries and writes
    nothing. (The same signal: after Ctrl-C, which reaches the jobs too, a job sees SIGINT twice and
    says it was interrupted, whichever copy comes first.)
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def forward(sig, frame, previous=previous):
            for pid in descendants(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if callable(previous):
                previous(sig, frame)
            else:
                signal.signal(sig, signal.SIG_DFL)
                os.kill(os.getpid(), sig)

        signal.signal(signum, forward)


# Snakemake runs `onstart` only for the main Snakefile's workflow: a workflow using this one as a
# module adds the same two lines, calling mnistflow.stop_jobs_on_signals() (the module's namespace).
onstart:
    stop_jobs_on_signals()
