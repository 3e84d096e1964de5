"""Paths of the project, rooted at the repository (cookiecutter-data-science style).

Every path can be overridden on the command line (`--raw`, `--processed`, `--reports`), so the
pipeline runs on any data folder; these are only the defaults.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = PROJECT_ROOT / "rules"
INGEST_RULES = RULES_DIR / "ingest.toml"
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REGISTRY_NAME = "units.csv"
# Deadlines (报送截止日) are local calendar days; file times are converted to this zone.
OFFICE_TIMEZONE = "Asia/Shanghai"
# Output metadata naming the page an output belongs to, when one notebook run makes many pages
# (every unit's scorecard): report_helpers.show_pages writes it, html_page.pages_to_html reads it.
REPORT_PAGE_KEY = "report_page"
