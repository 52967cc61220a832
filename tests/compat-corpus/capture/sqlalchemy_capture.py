"""SQLAlchemy 2 inspect() and pandas.read_sql, with both PostgreSQL dialects (psycopg2, psycopg)."""
import sys
import pandas
import sqlalchemy as sa
from common import OWN, url, step

for driver, app in (("psycopg2", "sqlalchemy-psycopg2"), ("psycopg", "sqlalchemy-psycopg3")):
    print(f"{app}:")
    eng = sa.create_engine(url(driver, app))
    insp = sa.inspect(eng)
    step("get_schema_names", insp.get_schema_names)
    step("get_table_names", insp.get_table_names)
    step("get_table_names(inventory)", lambda: insp.get_table_names(schema="inventory"))
    step("get_view_names", insp.get_view_names)
    step("has_table", lambda: insp.has_table("orders"))
    step("has_schema", lambda: insp.has_schema("inventory"))
    for t in ("customers", "orders"):
        step(f"get_columns({t})", lambda: insp.get_columns(t))
        step(f"get_pk_constraint({t})", lambda: insp.get_pk_constraint(t))
        step(f"get_foreign_keys({t})", lambda: insp.get_foreign_keys(t))
        step(f"get_indexes({t})", lambda: insp.get_indexes(t))
        step(f"get_unique_constraints({t})", lambda: insp.get_unique_constraints(t))
        step(f"get_check_constraints({t})", lambda: insp.get_check_constraints(t))
        step(f"get_table_comment({t})", lambda: insp.get_table_comment(t))
    step("get_view_definition", lambda: insp.get_view_definition("big_orders"))
    step("get_enums", insp.get_enums)
    step("get_sequence_names", insp.get_sequence_names)
    step("MetaData.reflect", lambda: sa.MetaData().reflect(eng))
    step("pandas.read_sql(text)", lambda: pandas.read_sql(sa.text(OWN + "SELECT * FROM orders"), eng))
    step("pandas.read_sql(table name)", lambda: pandas.read_sql("customers", eng))
    step("pandas.read_sql_table(schema)", lambda: pandas.read_sql_table("items", eng, schema="inventory"))
    eng.dispose()
