"""Paths of the project, rooted at the repository (cookiecutter-data-science style).

Every path can be overridden on the command line (`--raw`, `--processed`, `--reports`), so the
pipeline runs on any data folder; these are only the defaults.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = PROJECT_ROOT / "rules"
INGEST_RULES = RULES_DIR / "ingest.toml"
OFFICE_RULES = RULES_DIR / "office.toml"
DEFAULT_OFFICE = "安全生产委员会办公室"
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
# Work kept between runs to save time (converted notebooks, compiled templates, font metrics), each
# entry keyed by what it was made from; deleting the folder only costs time.
CACHE_DIR = PROJECT_ROOT / ".cache"
REGISTRY_NAME = "units.csv"
# Deadlines (报送截止日) are local calendar days; file times are converted to this zone.
OFFICE_TIMEZONE = "Asia/Shanghai"
# Output metadata naming the page an output belongs to, when one notebook run makes many pages
# (every unit's scorecard): report_helpers.show_pages writes it, html_page.pages_to_html reads it.
REPORT_PAGE_KEY = "report_page"


def office_name(path: Path | None = None) -> str:
    """The issuing office's name from rules/office.toml (`name`); a generic one when there is no
    such file. A file that is there but unreadable, or names no office, is an InputError: a typo
    there must not put a wrong name under every report."""
    import tomllib

    from pipeline.errors import InputError

    path = Path(path or OFFICE_RULES)
    if not path.exists():
        return DEFAULT_OFFICE
    try:
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path} 无法读取(cannot be read): {error}") from None
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{path} 缺少 name = \"…办公室\"(the office's name is missing)")
    return name.strip()
