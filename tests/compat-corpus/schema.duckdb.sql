-- schema.pg.sql in DuckDB SQL (what run.py creates through the gateway). No SERIAL, no other
-- differences beyond the types; keep names, columns, keys and comments as in schema.pg.sql.
CREATE TYPE mood AS ENUM ('happy', 'neutral', 'sad');
CREATE TYPE address AS STRUCT(street TEXT, city TEXT);
CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       VARCHAR(100) NOT NULL,
    email      TEXT UNIQUE,
    balance    DECIMAL(12, 2) DEFAULT 0,
    tags       TEXT[],
    mood       mood,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount      DECIMAL(10, 2),
    placed_at   TIMESTAMPTZ,
    shipped     BOOLEAN,
    payload     JSON,
    blob        BLOB,
    uid         UUID,
    ratio       DOUBLE
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW big_orders AS SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount > 100;
COMMENT ON TABLE customers IS 'people who buy';
COMMENT ON COLUMN customers.email IS 'contact address';
CREATE SCHEMA inventory;
CREATE TABLE inventory.items (sku VARCHAR(20) PRIMARY KEY, qty SMALLINT, price REAL);
INSERT INTO customers (id, name, email, balance, tags, mood) VALUES
    (1, 'Ada', 'ada@example.com', 10.50, ['vip'], 'happy'),
    (2, 'Bob', NULL, 0, [], 'sad');
INSERT INTO orders VALUES
    (1, 1, 250.00, '2024-05-01 10:00:00+00', true, '{"k": 1}', '\x00\xff'::BLOB, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 0.5),
    (2, 2, 20.00, NULL, false, NULL, NULL, NULL, NULL);
INSERT INTO inventory.items VALUES ('A-1', 3, 9.99);
