-- The schema the corpus is captured against (real PostgreSQL). schema.duckdb.sql is the same
-- schema in DuckDB SQL for the gateway; keep the two in step (names, columns, keys, comments).
CREATE TYPE mood AS ENUM ('happy', 'neutral', 'sad');
CREATE TYPE address AS (street text, city text);
CREATE TABLE customers (
    id         integer PRIMARY KEY,
    name       varchar(100) NOT NULL,
    email      text UNIQUE,
    balance    numeric(12, 2) DEFAULT 0,
    tags       text[],
    mood       mood,
    created_at timestamp DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    amount      numeric(10, 2),
    placed_at   timestamptz,
    shipped     boolean,
    payload     json,
    blob        bytea,
    uid         uuid,
    ratio       double precision
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW big_orders AS SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount > 100;
COMMENT ON TABLE customers IS 'people who buy';
COMMENT ON COLUMN customers.email IS 'contact address';
CREATE SCHEMA inventory;
CREATE TABLE inventory.items (sku varchar(20) PRIMARY KEY, qty smallint, price real);
INSERT INTO customers (id, name, email, balance, tags, mood) VALUES
    (1, 'Ada', 'ada@example.com', 10.50, ARRAY['vip'], 'happy'),
    (2, 'Bob', NULL, 0, ARRAY[]::text[], 'sad');
INSERT INTO orders VALUES
    (1, 1, 250.00, '2024-05-01 10:00:00+00', true, '{"k": 1}', '\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 0.5),
    (2, 2, 20.00, NULL, false, NULL, NULL, NULL, NULL);
INSERT INTO inventory.items VALUES ('A-1', 3, 9.99);
