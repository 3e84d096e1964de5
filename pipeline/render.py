"""The report driver: run parameterised notebooks with papermill and write them as offline HTML.

- The jupytext percent `.py` notebooks in notebooks/ are the source; the `.ipynb` papermill needs is
  generated into a build folder (kernelspec python3, no outputs) and never committed.
- Jobs run two at a time from this one process (threads; each notebook gets its own fresh kernel,
  and the kernels are the processes that do the work). Kernels are started early (`Kernels`), with
  the report modules already imported, so their start-up overlaps the driver's own checks.
- A job whose outputs are newer than all its inputs and whose parameters are unchanged is skipped,
  so a rerun with nothing changed executes nothing.
- Outputs are written atomically (temporary file, then os.replace): a failing notebook leaves the
  previous report untouched. The first failure stops the run with one message naming the notebook
  and the failing cell (`ReportError`); the executed notebook is kept in the build folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import CACHE_DIR, PROJECT_ROOT
from pipeline.errors import InputError

KERNEL = "python3"
CELL_TIMEOUT_SECONDS = 900  # a cell still running after this is a hung report, not a slow one
KERNELSPEC = {"name": KERNEL, "display_name": "Python 3", "language": "python"}


class ReportError(InputError):
    """A report could not be made: the message names the notebook and the failing cell."""


@dataclass
class Job:
    """One notebook run: `notebook` (jupytext .py) with `parameters` -> `output` (.html) and, when
    given, `pdf`. `inputs` are the files whose change makes the outputs stale.
    With `pages` (page name -> (html path, title)) the run makes many pages instead (every unit's
    scorecard from one kernel): the notebook marks each page's output (report_helpers.show_pages),
    each becomes its own HTML file, and `output` is only the folder they go to.
    `files` (notebook parameter -> output path) are files the notebook writes itself (the Excel
    attachment, from the data its kernel already holds): the parameter is set to a path in the
    build folder, and the file is written into place with the pages, only when the whole run worked
    (each file is replaced atomically, the notebook's own files first)."""

    notebook: Path
    parameters: dict[str, object]
    output: Path
    title: str
    inputs: Sequence[Path] = ()
    pdf: Path | None = None
    pages: dict[str, tuple[Path, str]] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    outputs: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        if self.pages:
            self.outputs = [path for path, _ in self.pages.values()]
        else:
            self.outputs = [self.output] + ([self.pdf] if self.pdf else [])
        self.outputs += list(self.files.values())


@dataclass
class Outcome:
    """How a job went (a job never raises: its thread returns this)."""

    ok: bool
    seconds: float
    message: str = ""
    warnings: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent executing, in HTML, in PDF


# ------------------------------------------------------------------------------------- freshness
def signature(job: Job) -> str:
    """What, besides input files, decides a job's output: notebook, parameters, title."""
    text = json.dumps({"notebook": str(job.notebook), "parameters": job.parameters, "title": job.title,
                       "files": job.files}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stamp_path(build_dir: Path, output: Path) -> Path:
    key = hashlib.sha256(str(Path(output).resolve()).encode("utf-8")).hexdigest()[:20]
    return build_dir / "stamps" / f"{key}.json"


def is_fresh(outputs: Sequence[Path], inputs: Sequence[Path], stamp: Path | None = None,
             expected: str | None = None) -> bool:
    """True when every output exists, is newer than every input, and (if a stamp is given) was made
    with the same signature."""
    try:
        oldest_output = min(Path(p).stat().st_mtime_ns for p in outputs)
    except (FileNotFoundError, ValueError):
        return False
    newest_input = max((Path(p).stat().st_mtime_ns for p in inputs if Path(p).exists()), default=0)
    if oldest_output <= newest_input:
        return False
    if stamp is not None:
        try:
            return json.loads(stamp.read_text(encoding="utf-8")).get("signature") == expected
        except (FileNotFoundError, json.JSONDecodeError):
            return False
    return True


def write_stamp(build_dir: Path, job: Job) -> None:
    stamp = _stamp_path(build_dir, job.output)
    atomic_write_bytes(stamp, json.dumps({"signature": signature(job), "output": str(job.output)}).encode())


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write via a temporary file in the same folder and os.replace, so readers never see half a file
    and a failure leaves the old file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ------------------------------------------------------------------------------------ notebooks
# Converted notebooks shared by every reports folder, one per source content: converting (jupytext,
# ~0.6 s with its import) is paid once per version of the code, not once per new reports folder.
# A project folder that cannot be written to just goes without. NOTEBOOK_FORMAT: change it when
# build_notebook's conversion changes, so no notebook converted the old way is served.
NOTEBOOK_CACHE = CACHE_DIR / "notebooks"
NOTEBOOK_FORMAT = 1


def build_notebook(source: Path, build_dir: Path) -> Path:
    """The jupytext .py notebook as .ipynb (kernelspec python3, no outputs) in build_dir/notebooks."""
    target = build_dir / "notebooks" / f"{source.stem}.ipynb"
    if target.exists() and target.stat().st_mtime_ns > source.stat().st_mtime_ns:
        return target
    from importlib.metadata import version

    text = source.read_bytes()
    how = json.dumps([NOTEBOOK_FORMAT, KERNELSPEC, source.suffix, version("jupytext")], sort_keys=True)
    key = hashlib.sha256(text + how.encode("utf-8")).hexdigest()[:20]
    cached = NOTEBOOK_CACHE / f"{source.stem}-{key}.ipynb"
    try:
        payload = cached.read_bytes()
    except OSError:
        import jupytext

        notebook = jupytext.reads(text.decode("utf-8"), fmt=source.suffix.lstrip(".") or "py")
        notebook.metadata["kernelspec"] = dict(KERNELSPEC)
        notebook.metadata.setdefault("language_info", {"name": "python"})
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        payload = jupytext.writes(notebook, fmt="ipynb").encode("utf-8")
        try:
            atomic_write_bytes(cached, payload)
        except OSError:
            pass
    atomic_write_bytes(target, payload)
    return target


def _build_file(build_dir: Path, folder: str, output: Path, suffix: str) -> Path:
    """A build file for `output`, named after it and a hash of its full path (two outputs of one
    name in different folders never share one)."""
    key = hashlib.sha256(str(Path(output).resolve()).encode("utf-8")).hexdigest()[:10]
    return build_dir / folder / f"{Path(output).stem}-{key}{suffix}"


def _executed_path(build_dir: Path, output: Path) -> Path:
    return _build_file(build_dir, "executed", output, ".ipynb")


def _staged_path(build_dir: Path, output: Path) -> Path:
    """Where a notebook writes a file of its own (Job.files) before it is moved into place."""
    return _build_file(build_dir, "staged", output, Path(output).suffix)


def _kernel_environment() -> None:
    """The kernels import `pipeline` from the project and should print nothing on start."""
    paths = [str(PROJECT_ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's frozen-modules note
    os.environ.setdefault("MPLBACKEND", "Agg")  # an analyst's own matplotlib figure in a notebook: no display


# What the report notebooks import (and the charts' font outlines), loaded while a kernel starts
# (IPKernelApp.exec_lines), so the kernel is ready with them when its notebook arrives. A failure
# here only logs; the notebook's own import cell then fails with the real message.
PRELOAD = ("import pipeline.report_monthly, pipeline.report_scorecard, pipeline.report_annual, pipeline.score, "
           "pipeline.export, pyarrow.parquet; pipeline.svg.outlines()")
# Quiet kernel log (its note on unencrypted local TCP, its interrupt at shutdown); errors in cells
# still reach the notebook and stop the run.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


class Kernels:
    """Kernels started ahead of need: `Kernels(2)` at the top of a report command boots two kernels
    (and their imports) while the driver is still checking the data and planning, instead of after.
    `take()` hands one out (starting a new one when none is left); each serves one notebook and is
    shut down after it, so no state passes between reports. `close()` shuts down the unused ones.
    Usable as a context manager."""

    def __init__(self, count: int = 0, preload: str = PRELOAD):
        _kernel_environment()
        self._lock = threading.Lock()
        self._arguments = list(KERNEL_ARGUMENTS)
        if preload:
            self._arguments.append(f"--IPKernelApp.exec_lines={preload}")
        self._ready: list = []
        self._busy: set = set()
        self._stopping: list[threading.Thread] = []
        self._failure: Exception | None = None
        self.cancelled = threading.Event()  # set by `cancel` (Ctrl-C): nothing more is written
        # Started on a thread: the command goes on with its checks while jupyter_client loads and
        # the kernel processes launch.
        self._starter = threading.Thread(target=self._start_ahead, args=(count,), name="kernel-starter", daemon=True)
        self._starter.start()

    def _start_ahead(self, count: int) -> None:
        try:
            for _ in range(count):
                self._ready.append(self._start())
        except Exception as error:  # reported by take(), which starts its own kernel
            self._failure = error

    def _start(self):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        manager = AsyncKernelManager(kernel_name=KERNEL)
        # The kernel's working folder is the project (never os.chdir here: jobs run in threads).
        run_sync(manager.start_kernel)(cwd=str(PROJECT_ROOT), extra_arguments=self._arguments)
        return manager

    def launched(self) -> Kernels:
        """Wait until the kernel processes are launched (not until they are ready): the caller's
        own imports would otherwise compete with their launch for this process's one GIL."""
        self._starter.join()
        return self

    def take(self):
        """A kernel for one notebook (give it back with `release`)."""
        self._starter.join()
        with self._lock:
            manager = self._ready.pop(0) if self._ready else None
        manager = manager or self._start()
        with self._lock:
            self._busy.add(manager)
        return manager

    def release(self, manager) -> None:
        """Shut down a kernel whose notebook is done, on a thread of its own (about 0.1 s that
        the notebook's HTML and PDF need not wait for); `wait_stopped` waits for it."""
        stopper = threading.Thread(target=self.stop, args=(manager,), name="kernel-stopper", daemon=True)
        with self._lock:  # started before `wait_stopped` can see it (Ctrl-C may be joining right now)
            self._busy.discard(manager)
            stopper.start()
            self._stopping.append(stopper)

    def wait_stopped(self) -> None:
        """Wait until every kernel given back with `release` is shut down."""
        with self._lock:
            stoppers, self._stopping = self._stopping, []
        for stopper in stoppers:
            stopper.join()

    @staticmethod
    def stop(manager) -> None:
        from jupyter_core.utils import run_sync

        try:
            run_sync(manager.shutdown_kernel)(now=True)
        except Exception:  # already gone: nothing to stop
            pass

    def cancel(self) -> None:
        """Stop everything now (Ctrl-C): running notebooks fail at once, and nothing is written."""
        self.cancelled.set()
        with self._lock:
            busy = list(self._busy)
        for manager in busy:
            self.stop(manager)
        self.close()

    def close(self) -> None:
        """Shut down the unused kernels, and wait for those released to be gone."""
        self._starter.join()
        with self._lock:
            unused, self._ready = self._ready, []
        for manager in unused:
            self.stop(manager)
        self.wait_stopped()

    def __enter__(self) -> Kernels:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def execute(job: Job, ipynb: Path, build_dir: Path, kernels: Kernels | None = None) -> Outcome:
    """Run one job on a kernel from `kernels` (a new one if None): papermill -> HTML (-> PDF, and
    the files the notebook writes), all written atomically once everything is made. Never raises."""
    start = time.perf_counter()
    manager = None
    own = kernels is None
    kernels = kernels or Kernels()
    try:
        manager = kernels.take()
        import papermill
        from papermill.exceptions import PapermillExecutionError

        from pipeline import html_page

        executed = _executed_path(build_dir, job.output)
        executed.parent.mkdir(parents=True, exist_ok=True)
        staged = {name: _staged_path(build_dir, path) for name, path in job.files.items()}
        for path in staged.values():  # a file left by an earlier run must not pass for this run's
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
        parameters = {**job.parameters, **{name: str(path) for name, path in staged.items()}}
        try:
            notebook = papermill.execute_notebook(
                str(ipynb), str(executed), parameters=parameters, kernel_name=KERNEL,
                progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT_SECONDS, km=manager,
                request_save_on_cell_execute=False,  # written once at the end, not after every cell
            )
        except PapermillExecutionError as error:
            source = (error.source or "").strip().splitlines()
            first = source[0] if source else ""
            message = (f"报告生成失败(report failed): {job.notebook.name} → {job.output.name}\n"
                       f"  单元格 #{error.cell_index}(cell index {error.cell_index}, execution {error.exec_count}): {first}\n"
                       f"  {error.ename}: {error.evalue}\n"
                       f"  已执行的笔记本(executed notebook): {executed}")
            return Outcome(False, time.perf_counter() - start, message)
        kernels.release(manager)
        manager = None
        files = {}
        for name, path in staged.items():
            if not path.is_file():
                return Outcome(False, time.perf_counter() - start,
                               f"报告生成失败(report failed): {job.notebook.name} 没有写出 {job.files[name].name}"
                               f"(the notebook did not write the file given in {name})\n"
                               f"  已执行的笔记本(executed notebook): {executed}")
            files[job.files[name]] = path.read_bytes()
        phases = {"执行": time.perf_counter() - start}
        warnings = sum(1 for cell in notebook.cells for out in cell.get("outputs", [])
                       if out.get("output_type") == "stream" and out.get("name") == "stderr")
        # Everything is made before anything is written: all outputs change, or none.
        if job.pages:
            try:
                pages = html_page.pages_to_html(notebook, {name: title for name, (_, title) in job.pages.items()})
            except KeyError as missing:
                return Outcome(False, time.perf_counter() - start,
                               f"报告生成失败(report failed): {job.notebook.name} 没有生成这些页面(pages missing): "
                               f"{missing.args[0]}\n  已执行的笔记本(executed notebook): {executed}")
            written = {path: pages[name].encode("utf-8") for name, (path, _) in job.pages.items()}
            phases["HTML"] = time.perf_counter() - start - sum(phases.values())
        else:
            page = html_page.notebook_to_html(notebook, job.title)
            written = {job.output: page.encode("utf-8")}
            phases["HTML"] = time.perf_counter() - start - sum(phases.values())
            if job.pdf is not None:
                from pipeline import pdf

                written[job.pdf] = pdf.pdf_bytes(page)
                phases["PDF"] = time.perf_counter() - start - sum(phases.values())
        # The notebook's own files first: an attachment held open elsewhere stops the run before
        # any page is replaced.
        written = {**files, **written}
        if kernels.cancelled.is_set():
            return Outcome(False, time.perf_counter() - start, f"已中断，未写入(interrupted, nothing written): {job.title}")
        for path, payload in written.items():
            atomic_write_bytes(path, payload)
        for path in staged.values():
            path.unlink(missing_ok=True)
        write_stamp(build_dir, job)
        return Outcome(True, time.perf_counter() - start, warnings=warnings, phases=phases)
    except Exception as error:  # a kernel that died, a missing file, a PDF that failed
        return Outcome(False, time.perf_counter() - start,
                       f"报告生成失败(report failed): {job.notebook.name} → {job.output.name}\n"
                       f"  {type(error).__name__}: {error}")
    finally:
        if manager is not None:
            kernels.release(manager)
        if own:
            kernels.close()


def _show(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_jobs(jobs: Sequence[Job], build_dir: Path, *, workers: int = 2, force: bool = False,
             echo: Callable[[str], None] = print, meanwhile: Callable[[], object] | None = None,
             kernels: Kernels | None = None) -> list[Path]:
    """Run the stale jobs (all with force), `workers` at a time on threads of this process (each on
    its own kernel, which does the work); one line per finished notebook. `meanwhile()` (light work
    such as warming up the HTML template) runs on this thread while the notebooks run. `kernels`:
    kernels started ahead (else each job starts its own). Returns every job's outputs. Raises
    ReportError on the first failure."""
    build_dir = Path(build_dir)
    _kernel_environment()
    todo = [job for job in jobs if force or not is_fresh(
        job.outputs, [job.notebook, *job.inputs], _stamp_path(build_dir, job.output), signature(job))]
    skipped = len(jobs) - len(todo)
    if skipped:
        echo(f"{skipped} 份报告已是最新，跳过(up to date, skipped)")
    if not todo:
        return [p for job in jobs for p in job.outputs]
    ipynbs = {source: build_notebook(source, build_dir) for source in {job.notebook for job in todo}}
    total, started = len(todo), time.perf_counter()
    slots = max(1, min(workers, total))
    echo(f"生成 {total} 份报告(rendering {total} report(s)), 同时 {slots} 份(at a time)")
    queue = list(todo)
    own = kernels is None
    kernels = kernels or Kernels()  # one set-up of the kernels' environment, here, not per thread
    pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="report")
    try:
        # At most one job per slot in flight: after a failure nothing new starts.
        running: dict[Future, Job] = {}
        done = 0
        while queue or running:
            while queue and len(running) < slots:
                job = queue.pop(0)
                running[pool.submit(execute, job, ipynbs[job.notebook], build_dir, kernels)] = job
            if meanwhile is not None:
                meanwhile, later = None, meanwhile
                later()
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                done += 1
                outcome = future.result()
                if not outcome.ok:
                    queue.clear()
                _report(outcome, job, done, total, echo)
    except KeyboardInterrupt:
        # Ctrl-C: the kernels run in sessions of their own and do not get the signal; stop them so
        # the notebooks fail now, and write nothing more.
        kernels.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        kernels.wait_stopped()  # no kernel this run used outlives it
        if own:
            kernels.close()
    echo(f"完成(done): {total} 份报告, {time.perf_counter() - started:.1f} s")
    return [p for job in jobs for p in job.outputs]


def _report(outcome: Outcome, job: Job, done: int, total: int, echo: Callable[[str], None]) -> None:
    if not outcome.ok:
        raise ReportError(outcome.message)  # the command line prints it once, without a traceback
    note = f"  ({outcome.warnings} 条警告输出, 见 build 目录中的已执行笔记本)" if outcome.warnings else ""
    phases = "，".join(f"{name} {seconds:.1f} s" for name, seconds in outcome.phases.items())
    echo(f"[{done}/{total}] {job.title}  {outcome.seconds:.1f} s{f'（{phases}）' if phases else ''}  → {_show(job.output)}{note}")
    sys.stdout.flush()
