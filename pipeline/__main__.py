"""Command line: `python -m pipeline process|report|annual|templates …` (SPEC "Interface").

Exit status 0 when the command ran (quarantined rows are findings, not failures); non-zero with
one clear message, never a traceback, when it could not.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline import config
from pipeline.errors import InputError


def _folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=config.RAW_DIR, help="原始数据文件夹 (raw data folder, read-only)")
    parser.add_argument("--processed", type=Path, default=config.PROCESSED_DIR, help="处理结果文件夹 (processed tables)")
    parser.add_argument("--reports", type=Path, default=config.REPORTS_DIR, help="报告输出文件夹 (reports)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="安全生产考评分析流水线 (safety assessment pipeline)")
    commands = parser.add_subparsers(dest="command", required=True)
    process = commands.add_parser("process", help="原始数据 → 全部处理结果表 (raw → every processed table)")
    _folders(process)
    process.add_argument("--force", action="store_true", help="即使没有变化也重新处理 (reprocess even if nothing changed)")
    report = commands.add_parser("report", help="月度排名通报+单位成绩单 (monthly circular and every unit's scorecard)")
    report.add_argument("--period", help="月份 YYYY-MM (default: the latest month with data)")
    report.add_argument("--unit", action="append", help="只生成这些单位的成绩单 (only these units' scorecards; repeatable)")
    _folders(report)
    annual = commands.add_parser("annual", help="年度考核报告 (year-end assessment)")
    annual.add_argument("--year", help="年度 YYYY (default: the latest year with data)")
    _folders(annual)
    every = commands.add_parser("all", help="每个月的通报和每年的考核 (every month and every year, in parallel)")
    _folders(every)
    for command in (report, annual, every):
        command.add_argument("--force", action="store_true", help="即使没有变化也重新生成 (rebuild even if nothing changed)")
    templates = commands.add_parser("templates", help="各单位报送模板 (one submission template per unit)")
    templates.add_argument("--period", help="月份 YYYY-MM (default: the month after the latest with data, else this month)")
    _folders(templates)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "process":
            from pipeline.runner import process

            process(args.raw, args.processed, force=args.force, workers=True)  # no other thread runs here
        elif args.command in ("report", "annual", "all"):
            from pipeline.render import Kernels  # (light: no pandas, no jupyter yet)

            # The kernels are launched first and boot while this process checks the data and plans
            # (loading pandas only when something needs processing): their start-up is the
            # longest wait of a report run.
            with Kernels(1 if args.command == "annual" else 2).launched() as kernels:
                from pipeline.commands import make_reports

                which = {"report": getattr(args, "period", None), "annual": getattr(args, "year", None), "all": None}[args.command]
                make_reports(args.command, which, args.raw, args.processed, args.reports,
                             units=getattr(args, "unit", None), force=args.force, kernels=kernels)
        elif args.command == "templates":
            from pipeline.commands import make_templates

            make_templates(args.period, args.raw, args.processed, args.reports)
        return 0
    except InputError as error:
        print(f"错误(error): {error}", file=sys.stderr)
        return 2
    except OSError as error:  # an output folder that cannot be written, a disk that is full
        where = f" {error.filename}" if error.filename else ""
        print(f"错误(error): 无法读写文件{where}({error.strerror or error})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断(interrupted)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    status = main()
    if sys.argv[1:2] == ["process"]:
        # `process` has written and closed every table, released its lock and stopped its
        # workers and threads by now: the process ends here, without the interpreter's teardown
        # (finalising pandas, Arrow, pandera and their objects one by one: 0.3 s after a run of
        # 5·10^6 records, for nothing the system does not do when the process ends).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
