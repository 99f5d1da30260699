// Package demo is the VyaparBazaar demo: a deterministic synthetic data set
// of an Indian e-commerce marketplace and the dbt-style analytics project
// that runs on it.
//
// Generate writes schema raw (customers, categories, products, warehouses,
// campaigns, campaign_spend, orders, order_items, payments, returns and
// inventory_movements) into a DuckDB database. The rows are made inside
// DuckDB from range() and hash() of a seed, so the same Options give
// byte-identical tables and Scale 1.0 (a million orders) takes seconds.
//
// Project returns the embedded project: dbt_project.yml, sources, staging,
// intermediate, core dimensions and facts, marts (mart_daily_sales,
// mart_inventory_status, mart_campaign_performance, mart_financial_metrics)
// and ML features (ml_customer_segments), with macros, a seed, property
// files with data tests, and singular tests.
package demo
