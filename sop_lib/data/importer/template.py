"""The commented ``mapping.yaml`` that ``sop init`` writes into a new project.

Everything in it is commented out, so an unedited template maps no tables and ``sop import`` says so instead of
importing anything. Every key is explained where it stands; ``docs/import.md`` has the full reference.
"""

from __future__ import annotations

MAPPING_TEMPLATE = """\
# mapping.yaml — how `sop import` turns your own extracts into the data contract's files in inputs/.
#
# Everything below is commented out: as it stands this file imports nothing. Uncomment (remove the leading
# "# ") the parts you need and fill in your file and column names, then run `sop import`: it reads this
# file, writes inputs/<table>.csv and validates them (`sop import --cycle 2026-11` validates for that cycle).
# Nothing is written while a table has a problem; every problem is listed at once.
#
# Only sales_history and products are required; every other table may be left out (the suite then uses a
# default it states in the pack). Tables not named under tables: are left as they are in inputs/.
# docs/import.md has the full reference and worked examples (order lines, Excel, SQL, decimal commas).
#
# Expressions (filters, columns, derive, having) are SQL as DuckDB writes it: 'text' in single quotes,
# "Column Name" in double quotes when it has spaces, CASE WHEN … THEN … ELSE … END, starts_with(x, 'C'), …
#
# ---------------------------------------------------------------------------------------------------------------
# sources: the extracts, each under a name of your choice. Paths are relative to this file's folder.
# ---------------------------------------------------------------------------------------------------------------
# sources:
#   lines:                          # a name you choose, used by tables: below
#     path: raw/orders.csv.gz       # .csv .txt .tsv (optionally .gz), .xlsx/.xlsm, .parquet
#     format: csv                   # optional: csv | excel | parquet | sql (default: told by the suffix)
#     separator: ";"                # csv: the column separator (default ","; "\\t" for tab)
#     encoding: latin-1             # csv: default utf-8; older Windows exports are often cp1252 or latin-1
#     decimal: ","                  # csv: the decimal mark, when numbers are written 2,55
#     thousands: "."                # csv: the thousands separator, when numbers are written 1.234,5
#
#   book:
#     path: raw/sales.xlsx
#     sheet: Orders                 # excel: the sheet by name (default: the first sheet; the report says which)
#
#   erp_files:
#     format: sql                   # a SQL query run by DuckDB; it can read files next to this one:
#     query: >
#       SELECT o.*, p.family FROM 'raw/orders.parquet' AS o
#       JOIN read_csv('raw/products.csv') AS p USING (sku)
#
#   warehouse:
#     format: sql
#     database: erp.duckdb          # run the query on a DuckDB database file (opened read-only)
#     query: SELECT * FROM monthly_sales
#
#   erp:
#     format: sql
#     url: sqlite:///erp.db         # or a database URL (SQLAlchemy): sqlite:///file.db (relative to this
#     query: SELECT * FROM orders   #   folder), postgresql://user@host/db (its driver must be installed)
#
# ---------------------------------------------------------------------------------------------------------------
# tables: one entry per contract table to build (sales_history, products, prices, promotions,
#   bill_of_resources, capacity, inventory, budget — docs/data-contract.md lists their columns).
# ---------------------------------------------------------------------------------------------------------------
# tables:
#   sales_history:                  # columns: period, sku, region, units
#     source: lines                 # a name from sources:, or a source block written here (path: …)
#     date_format: auto             # how the date columns are written: auto (detected and printed), or a
#                                   #   strptime format: '%d/%m/%y' for 13/01/11, '%m/%d/%Y' for 1/13/2011
#     filters:                      # in order, on the source's rows; the report counts what each removed
#       - drop: "starts_with(InvoiceNo, 'C')"
#         reason: cancelled invoices
#       - keep: "Quantity > 0"      # keep: rows where it is true; drop: rows where it is true are removed
#         reason: returns and stock adjustments
#     columns:                      # contract column <- a source column (renamed) or a SQL expression
#       period: InvoiceDate         #   dates are read as their month (13/01/2011 -> 2011-01)
#       sku: StockCode              #   codes keep their text exactly (leading zeros too)
#       region: "CASE WHEN Country = 'United Kingdom' THEN 'UK' ELSE 'International' END"
#       units: Quantity
#     # constants:                  # contract column <- one value for every row, instead of a column above,
#     #   region: All               #   e.g. one region for a company that does not split by region
#     aggregate: sum                # one row per key (period, sku, region): numbers summed, text its most
#                                   #   frequent value; or per column: {units: sum, description: mode}
#                                   #   (functions: sum, mean, min, max, first, last, mode)
#     # derive:                     # after aggregate: more columns from the table's columns
#     #   units: "round(units)"
#     having:                       # like filters, on the rows after aggregate and derive
#       - keep: "units > 0"
#         reason: months with net returns only
#
#   products:                       # columns: sku, family, description (optional), status (optional)
#     source: lines
#     columns:
#       sku: StockCode
#       description: Description
#       family: "left(StockCode, 2)"  # a product family, here the first two characters of the code
#     constants:
#       status: active              # active, new or phase_out
#     aggregate: {description: mode}  # one row per sku; its most frequent description
#
#   prices:                         # columns: sku, valid_from, unit_price, unit_cost (optional)
#     source: lines
#     columns:
#       sku: StockCode
#       valid_from: InvoiceDate
#       units: Quantity             # helper columns: not in the contract, used below, not written
#       revenue: "Quantity * UnitPrice"
#     aggregate: sum                # one row per sku and month
#     derive:
#       unit_price: revenue / units           # the month's average price, weighted by units
#       unit_cost: unit_price * (1 - 0.35)    # a cost from a 35 % gross margin
#     having:
#       - keep: "units > 0"
#         reason: no price without units sold
"""
