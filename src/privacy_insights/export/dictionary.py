"""The buyer's data dictionary of spots_insights_v1, generated from the record JSON Schema
(fields, types, allowed values, buyer-facing descriptions) and the dbt model YAML (how each
warehouse column is computed). Shipped beside every export file and served by the API.

The YAML descriptions are written once as ``{% docs %}`` blocks and referenced with
``{{ doc('name') }}``; they are rendered here the way ``dbt docs`` does, from the blocks in the
project's ``.md`` files, so the dictionary holds text, never a template (a reference to a
block that does not exist, or any other template, is an error, not shipped).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from privacy_insights.export.records import DATASET, FIELDS, SCHEMA_VERSION, record_schema
from privacy_insights.export.writer import arrow_schema, csv_dtypes

MODEL_YAML = Path("models") / "marts" / "outside_buyer" / "_outside_buyer__models.yml"
_JSON_TYPE = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "timestamp": "string (ISO 8601 UTC, ...Z)",
}


DOCS_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.S)
DOC_CALL = re.compile(r"""{{-?\s*doc\(\s*['"](\w+)['"]\s*(?:,\s*['"](\w+)['"]\s*)?\)\s*-?}}""")


@lru_cache(maxsize=4)
def doc_blocks(project_root: Path) -> dict[str, str]:
    """Every ``{% docs name %}`` block of the project's models folder (dbt's docs paths)."""
    blocks: dict[str, str] = {}
    for path in sorted((project_root / "models").rglob("*.md")):
        for name, text in DOCS_BLOCK.findall(path.read_text()):
            blocks[name] = text.strip()
    return blocks


def render(text: str, blocks: dict[str, str]) -> str:
    """A YAML description with its ``{{ doc('name') }}`` references replaced by the blocks."""

    def block(match: re.Match) -> str:
        name = match.group(2) or match.group(1)  # doc('name') or doc('package', 'name')
        if name not in blocks:
            raise ValueError(f"data dictionary: {{{{ doc('{name}') }}}} names no docs block under models/")
        return blocks[name]

    rendered = DOC_CALL.sub(block, text)
    if "{{" in rendered or "{%" in rendered:
        raise ValueError(f"data dictionary: a description holds a template the dictionary cannot render: {text!r}")
    return " ".join(rendered.split())


@lru_cache(maxsize=4)
def _model_columns(project_root: Path) -> tuple[str, dict[str, str]]:
    path = project_root / MODEL_YAML
    if not path.exists():
        return "", {}
    blocks = doc_blocks(project_root)
    for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
        if model.get("name") == DATASET:
            columns = {c["name"]: render(str(c.get("description", "")), blocks) for c in model.get("columns", [])}
            return render(str(model.get("description", "")), blocks), columns
    return "", {}


def _arrow_types() -> dict[str, str]:
    out = {}

    def walk(fields, prefix=""):
        for f in fields:
            if str(f.type).startswith("struct"):
                walk(list(f.type), f"{prefix}{f.name}.")
            else:
                out[f"{prefix}{f.name}"] = str(f.type)

    walk(arrow_schema())
    return out


def dictionary(project_root: Path) -> dict:
    """The dictionary as data (the API's JSON answer)."""
    model_description, columns = _model_columns(project_root)
    arrow, pandas = _arrow_types(), csv_dtypes()
    fields = []
    for f in FIELDS:
        fields.append(
            {
                "field": f.dotted,
                "csv_column": f.dotted,
                "warehouse_column": f.column,
                "json_type": _JSON_TYPE[f.kind],
                "parquet_type": arrow[f.dotted],
                "pandas_dtype": pandas.get(f.dotted, "datetime64[ns, UTC] (parse_dates)"),
                "nullable": f.nullable,
                "allowed_values": list(f.values) if f.values is not None else None,
                "description": f.description,
                "computation": columns.get(f.column) or None,
            }
        )
    return {
        "dataset": DATASET,
        "schema_version": SCHEMA_VERSION,
        "record_schema": record_schema()["$id"],
        "description": record_schema()["description"],
        "model_description": model_description or None,
        "csv": {"pandas_read_csv": _pandas_snippet()},
        "fields": fields,
    }


def _pandas_snippet() -> str:
    return (
        "import pandas as pd\n"
        "from privacy_insights.export.writer import csv_dtypes, csv_timestamp_columns  # or the table below\n"
        "df = pd.read_csv(path, dtype=csv_dtypes(), parse_dates=csv_timestamp_columns())"
    )


def _cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def markdown(project_root: Path) -> str:
    d = dictionary(project_root)
    dtypes = {f["field"]: f["pandas_dtype"] for f in d["fields"]}
    dates = [k for k, v in dtypes.items() if "parse_dates" in v]
    lines = [
        f"# Data dictionary: {d['dataset']} (schema version {d['schema_version']})",
        "",
        d["description"],
        "",
        f"JSON Schema: `{d['record_schema']}` (the API serves it at `/v1/schema`). One record is one metric cell; "
        "JSON Lines and JSON keep the nesting, Parquet keeps it as structs (with each field's description in its "
        "metadata and the dataset and schema version in the file metadata), CSV has one dotted column per field.",
        "",
    ]
    if d["model_description"]:
        lines += [f"Warehouse model: {d['model_description']}", ""]
    lines += [
        "| field (CSV column) | JSON type | Parquet type | pandas dtype | null | allowed values | description | "
        "how it is computed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in d["fields"]:
        values = ", ".join(f"`{v}`" for v in f["allowed_values"]) if f["allowed_values"] else ""
        lines.append(
            f"| `{f['field']}` | {f['json_type']} | {_cell(f['parquet_type'])} | {f['pandas_dtype']} | "
            f"{'yes' if f['nullable'] else 'no'} | {_cell(values)} | {_cell(f['description'])} | "
            f"{_cell(f['computation'])} |"
        )
    lines += [
        "",
        "## Reading the CSV with its types",
        "",
        'Empty means null; booleans are `true`/`false`; `schema_version` is text ("1.2", not a number). With pandas:',
        "",
        "```python",
        "import pandas as pd",
        "dtypes = {" + ", ".join(f"{k!r}: {v!r}" for k, v in dtypes.items() if "parse_dates" not in v) + "}",
        f"df = pd.read_csv(path, dtype=dtypes, parse_dates={dates!r})",
        "```",
        "",
    ]
    return "\n".join(lines)
