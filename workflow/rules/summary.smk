# The closing summary: a run ends with a few lines saying what it made and where, the test accuracy,
# the recipe and the data (or, for a sweep, its page and the run it chose); a run that failed ends
# with the failed stages, their logs and the command that resumes it. The package writes the lines
# from plain values (mnistflow.evaluation.run_summary); what only Snakemake knows is read here: the
# run's jobs, its log, its command line. The `onsuccess` and `onerror` handlers make the lines, and
# Snakemake prints a few of its own after them (its log file, the elapsed time, and after a failure
# "At least one job did not complete successfully"), so when it runs from its command line they go
# to stderr as it exits, the last lines of all. Snakemake runs no handler for a dry run, nor for a
# run with nothing to be done.
import atexit
import functools
import re
import shlex
import sys
from pathlib import Path

from mnistflow.evaluation.run_summary import SweepPage, failure_lines, success_lines

# what Snakemake writes into its log of the run (snakemake/logging.py and scheduling/, 9.27): a block
# per failed job, its lines indented, and a line for each job it runs again (--retries)
JOB_ERROR = re.compile(r"Error in rule\s(\S+):")
JOB_RESTART = re.compile(r"Trying to restart job (\S+)\.")
LOG_HINT = " (check log file(s) for error details)"
# options that say how many cores (or a profile that does)
CORES_OPTIONS = ("-c", "--cores", "-j", "--jobs", "--profile")


def run_jobs(rule):
    """This run's jobs of ``rule`` (``rules.<name>``): those of every rule its targets need, whether
    they ran now or were up to date already."""
    return [job for job in workflow.dag.jobs if job.rule is rule.rule]


def success_summary():
    """The lines of mnistflow.evaluation.run_summary.success_lines for this run: the report, metrics,
    predictions, draw page and ONNX model of the single run and the sweeps' pages, when they are
    among its targets (the files of the target jobs when none is)."""
    products, metrics = [], None
    for job in run_jobs(rules.report):
        products.append(("report", str(job.output.html)))
    for job in run_jobs(rules.evaluate):
        metrics = str(job.output.metrics)
        products.append(("metrics", metrics))
    for job in run_jobs(rules.predict):
        products.append(("predictions", str(job.output.html)))
    for job in run_jobs(rules.draw_page):
        products.append(("draw page", str(job.output.html)))
    for job in run_jobs(rules.export_onnx):
        products.append(("ONNX model", str(job.output.onnx)))
    sweeps = [
        SweepPage(
            page=str(job.output.html),
            best=str(job.output.best),
            columns=tuple(sweep_plan(job.wildcards.sweep).table.columns),
        )
        for job in run_jobs(rules.sweep_compare)
    ]
    # none of them (say `snakemake prepare`): the files of the target jobs
    if not products and not sweeps:
        jobs = workflow.dag.targetjobs
        made = {str(path) for job in jobs for path in job.output or job.input}
        products = [("made", path) for path in sorted(made)]
    return success_lines(products, metrics, sweeps)


def failed_jobs(run_log):
    """(rule, its log) of each job that failed, from Snakemake's log of the run: its "Error in rule"
    blocks, less the jobs it ran again after them (a job that fails again has a later block).
    """
    try:
        text = Path(run_log).read_text(errors="replace")
    except (OSError, TypeError):
        return []
    # in the log's order: ("failed", job) and ("restarted", jobid)
    events, current = [], None
    for line in text.splitlines():
        if match := JOB_ERROR.fullmatch(line):
            current = {"rule": match[1], "jobid": None, "log": None}
            events.append(("failed", current))
        elif current is not None and line.startswith("    "):
            key, _, value = line.strip().partition(": ")
            if key in ("jobid", "log"):
                current[key] = value.removesuffix(LOG_HINT)
        else:
            current = None
            if match := JOB_RESTART.fullmatch(line):
                events.append(("restarted", match[1]))
    failed = {}  # jobid: the job's last failure
    for event, value in events:
        if event == "failed":
            failed[value["jobid"] or f"block {len(failed)}"] = value
        else:
            failed.pop(value, None)
    return [(job["rule"], job["log"]) for job in failed.values()]


def from_command_line():
    """Whether Snakemake runs from its command line (`snakemake ...`, `python -m snakemake ...`),
    so that it exits when the run ends and sys.argv holds the user's arguments."""
    program = Path(sys.argv[0])  # python -m snakemake: .../snakemake/__main__.py
    return "snakemake" in (program.name, program.parent.name)


def resume_command():
    """The command that resumes this run: the user's own arguments when Snakemake was started
    from its command line, --cores all when they give no cores, and --rerun-incomplete (a job
    stopped midway then runs again from the start)."""
    args = sys.argv[1:] if from_command_line() else []
    cores = [
        arg
        for arg in args
        for option in CORES_OPTIONS
        if arg == option
        or arg.startswith(option + "=")
        or (len(option) == 2 and arg.startswith(option))
    ]
    command = ["snakemake", *([] if cores else ["--cores", "all"]), *args]
    if not {"--rerun-incomplete", "--ri"} & set(args):
        command.append("--rerun-incomplete")
    return shlex.join(command)


def print_summary(make_lines):
    """Print the summary after a blank line: as Snakemake exits, after its own last lines, when it
    runs from its command line, otherwise now. An error in making it is one line too, never a failure
    of a run that succeeded."""
    try:
        lines = make_lines()
    except Exception as error:
        lines = [f"mnistflow: no summary of this run ({type(error).__name__}: {error})"]
    show = functools.partial(print, "", *lines, sep="\n", file=sys.stderr)
    if from_command_line():
        atexit.register(show)
    else:
        show()


def summarise_success(log):
    """The `onsuccess` handler (``log``: the paths of Snakemake's log of the run)."""
    print_summary(success_summary)


def summarise_failure(log):
    """The `onerror` handler (``log``: the paths of Snakemake's log of the run)."""
    run_log = log[0] if log else None
    print_summary(
        lambda: failure_lines(failed_jobs(run_log), resume_command(), run_log)
    )


# Snakemake runs `onsuccess` and `onerror` only for the main Snakefile's workflow: a workflow using
# this one as a module adds the same handlers, calling mnistflow.summarise_success(log) and
# mnistflow.summarise_failure(log) (the module's namespace).
onsuccess:
    summarise_success(log)


onerror:
    summarise_failure(log)
