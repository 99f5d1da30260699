package demo

// The SQL that generates the large tables. ${name} placeholders are filled
// in by generationSteps. _vb_u('stream', i) is a uniform [0, 1) number
// drawn from the seed, the stream name and the row key i (see
// streamConsts); _vb_u2 takes a second key. Every random choice has its own
// stream name, so adding a column never shifts the others.

const sqlCustomers = `
CREATE TEMP TABLE _vb_cust AS
WITH b AS (
  SELECT i AS customer_id,
         ${anchor} - 731 + ((i - 1) * 1096 // ${n_cust})::INTEGER AS signup_date,
         floor(_vb_u('c_city', i) * 1000)::INTEGER AS city_slot,
         floor(_vb_u('c_first', i) * ${n_first})::INTEGER AS first_idx,
         _vb_u('c_lastpool', i) AS u_pool,
         _vb_u('c_last', i) AS u_last,
         CASE WHEN i > 1 AND _vb_u('c_household', i) < 0.005 THEN i - 1 ELSE i END AS phone_key,
         _vb_u('c_case', i) AS u_case,
         _vb_u('c_phone_fmt', i) AS u_fmt,
         1 + floor(_vb_u('c_domain', i) * ${n_domains})::INTEGER AS domain_idx,
         _vb_u('c_seg', i) AS u_seg,
         _vb_u('c_acq', i) AS u_acq,
         _vb_u('c_pin', i) AS u_pin,
         _vb_u('c_time', i) AS u_time
  FROM range(1, ${n_cust} + 1) t(i)
), bc AS (
  SELECT b.*, c.city_idx, c.city, c.state, c.region, c.tier, c.warehouse_id, c.pin_base,
         CASE WHEN b.u_pool < 0.8 THEN c.region ELSE 'All' END AS name_pool
  FROM b
  JOIN _vb_city_bag cb ON cb.slot = b.city_slot
  JOIN _vb_cities c ON c.city_idx = cb.city_idx
), bl AS (
  SELECT bc.*, floor(bc.u_last * ln.n)::INTEGER AS last_idx
  FROM bc JOIN _vb_last_n ln ON ln.region = bc.name_pool
), n AS (
  SELECT bl.*,
         (bl.pin_base + floor(bl.u_pin * ${pin_span}))::INTEGER AS pin,
         f.name AS first_name, l.name AS last_name,
         (6 + floor(_vb_u('c_phone1', bl.phone_key) * 4))::BIGINT::VARCHAR
           || lpad((_vb_h('c_phone', bl.phone_key) % 1000000000)::VARCHAR, 9, '0') AS digits
  FROM bl
  JOIN _vb_first f ON f.idx = bl.first_idx
  JOIN _vb_last l ON l.region = bl.name_pool AND l.idx = bl.last_idx
)
SELECT customer_id, first_name, last_name,
       CASE WHEN u_case < 0.1
            THEN first_name || '.' || last_name || customer_id::VARCHAR || '@' || upper(${domains}[domain_idx])
            ELSE lower(first_name) || '.' || lower(last_name) || customer_id::VARCHAR || '@' || ${domains}[domain_idx]
       END AS email,
       CASE WHEN u_fmt < 0.2 THEN '+91 ' || substr(digits, 1, 5) || ' ' || substr(digits, 6, 5)
            ELSE '+91' || digits END AS phone,
       city, state, city_idx, pin, signup_date,
       CASE WHEN u_acq < 0.35 THEN 'organic' WHEN u_acq < 0.55 THEN 'google' WHEN u_acq < 0.75 THEN 'meta'
            WHEN u_acq < 0.85 THEN 'referral' WHEN u_acq < 0.93 THEN 'affiliate' ELSE 'whatsapp' END AS acquisition_channel,
       CASE WHEN u_seg < 0.45 THEN 'value' WHEN u_seg < 0.85 THEN 'mainstream' ELSE 'premium' END AS segment_hint,
       signup_date::TIMESTAMP + to_seconds((28800 + floor(u_time * 54000))::BIGINT) AS signup_ts
FROM n;

CREATE OR REPLACE TABLE raw.customers AS
SELECT customer_id::BIGINT AS customer_id, first_name, last_name, email, phone, city, state, lpad(pin::VARCHAR, 6, '0') AS pincode,
       signup_date::DATE AS signup_date, acquisition_channel, segment_hint,
       least(signup_ts + INTERVAL 15 MINUTE, ${as_of}) AS _loaded_at
FROM _vb_cust
ORDER BY customer_id`

const sqlProducts = `
CREATE TEMP TABLE _vb_prod AS
WITH b AS (
  SELECT i AS product_id,
         CASE WHEN i <= ${p_old} THEN DATE '2021-01-01' + ((i - 1) * 1461 // ${p_old})::INTEGER
              ELSE ${anchor} + ((i - ${p_old} - 1) * 334 // ${p_new})::INTEGER END AS launched_at,
         floor(_vb_u('p_cat', i) * 1000)::INTEGER AS cat_slot,
         _vb_u('p_price', i) AS u_price, _vb_u('p_disc', i) AS u_disc, _vb_u('p_margin', i) AS u_margin,
         _vb_u('p_brand', i) AS u_brand, _vb_u('p_noun', i) AS u_noun, _vb_u('p_var', i) AS u_var,
         _vb_u('p_adj', i) AS u_adj, _vb_u('p_active', i) AS u_active
  FROM range(1, ${n_prod} + 1) t(i)
), priced AS (
  SELECT b.*, c.*, exp(ln(c.price_min) + b.u_price * (ln(c.price_max) - ln(c.price_min))) AS raw_price
  FROM b
  JOIN _vb_cat_bag cb ON cb.slot = b.cat_slot
  JOIN _vb_cat c ON c.category_id = cb.category_id
), m AS (
  SELECT *, CASE WHEN raw_price >= 1000 THEN ceil(raw_price / 100) * 100 - 1
                 WHEN raw_price >= 100 THEN ceil(raw_price / 50) * 50 - 1
                 ELSE ceil(raw_price / 10) * 10 - 1 END AS mrp
  FROM priced
), s AS (
  SELECT *, greatest(round(mrp * (1 - (disc_lo + u_disc * (disc_hi - disc_lo)))), 9) AS selling
  FROM m
), g AS (
  SELECT *, CASE WHEN gst_low AND selling <= 1000 THEN 5 ELSE gst END AS gst_rate
  FROM s
)
SELECT product_id, category_id, parent_id, launched_at, qty_max, sale_extra,
       'VB-' || code || '-' || lpad(product_id::VARCHAR, 7, '0') AS sku,
       brands[1 + floor(u_brand * len(brands))::INTEGER] AS brand,
       brands[1 + floor(u_brand * len(brands))::INTEGER] || ' ' || ${adjectives}[1 + floor(u_adj * 12)::INTEGER] || ' '
         || nouns[1 + floor(u_noun * len(nouns))::INTEGER] || ' (' || variants[1 + floor(u_var * len(variants))::INTEGER] || ')' AS name,
       mrp::DECIMAL(12,2) AS mrp_inr,
       selling::DECIMAL(12,2) AS selling_price_inr,
       round(selling / (1 + gst_rate / 100) * (1 - (margin_lo + u_margin * (margin_hi - margin_lo))), 2)::DECIMAL(12,2) AS cost_inr,
       gst_rate::DECIMAL(5,2) AS gst_rate,
       u_active < 0.96 AS is_active
FROM g;

CREATE OR REPLACE TABLE raw.products AS
SELECT product_id::BIGINT AS product_id, sku, name, category_id::INTEGER AS category_id, brand,
       mrp_inr, selling_price_inr, cost_inr, gst_rate, launched_at::DATE AS launched_at, is_active,
       launched_at::TIMESTAMP - INTERVAL 6 DAY + INTERVAL 11 HOUR AS _loaded_at
FROM _vb_prod
ORDER BY product_id`

const sqlCampaigns = `
CREATE TEMP TABLE _vb_camp AS
WITH b AS (
  SELECT i AS campaign_id,
         _vb_u('k_ch', i) AS u_ch, _vb_u('k_fest', i) < 0.35 AS is_festive,
         floor(_vb_u('k_fidx', i) * ${n_fest})::INTEGER AS fest_idx,
         _vb_u('k_start', i) AS u_start, _vb_u('k_dur', i) AS u_dur, _vb_u('k_budget', i) AS u_budget,
         _vb_u('k_obj', i) AS u_obj, _vb_u('k_pct', i) AS u_pct
  FROM range(1, ${n_camp} + 1) t(i)
), c AS (
  SELECT b.*,
         CASE WHEN u_ch < 0.30 THEN 'google' WHEN u_ch < 0.60 THEN 'meta' WHEN u_ch < 0.75 THEN 'email'
              WHEN u_ch < 0.87 THEN 'whatsapp' ELSE 'affiliate' END AS channel,
         CASE WHEN is_festive THEN greatest(f.start_date - 5, ${anchor})
              ELSE ${anchor} + floor(u_start * 355)::INTEGER END AS start_date,
         f.name AS fest_name, f.code AS fest_code, f.end_date AS fest_end
  FROM b JOIN _vb_fest f ON f.idx = b.fest_idx
), d AS (
  SELECT c.*,
         CASE WHEN is_festive THEN fest_end
              ELSE least(start_date + 6 + floor(u_dur * 39)::INTEGER, ${end_date}) END AS end_date,
         CASE WHEN u_pct < 0.3 THEN 5 WHEN u_pct < 0.65 THEN 10 WHEN u_pct < 0.9 THEN 15 ELSE 20 END AS discount_pct
  FROM c
)
SELECT campaign_id, channel, start_date, end_date, discount_pct,
       (end_date - start_date + 1) AS duration_days,
       CASE WHEN is_festive THEN fest_name ELSE ${month_theme}[month(start_date)] END
         || ' | ' || CASE channel WHEN 'google' THEN 'Google Ads' WHEN 'meta' THEN 'Meta' WHEN 'email' THEN 'Email'
                                  WHEN 'whatsapp' THEN 'WhatsApp' ELSE 'Affiliates' END
         || ' #' || campaign_id::VARCHAR AS name,
       CASE WHEN is_festive THEN fest_code ELSE 'VB' || upper(left(channel, 3)) END || discount_pct::VARCHAR AS coupon_code,
       CASE WHEN channel IN ('email', 'whatsapp') THEN 'retention'
            WHEN channel = 'affiliate' OR u_obj < 0.7 THEN 'acquisition' ELSE 'awareness' END AS objective,
       round(${budget_base} * CASE channel WHEN 'google' THEN 1.6 WHEN 'meta' THEN 1.3 WHEN 'affiliate' THEN 0.8
                                           WHEN 'email' THEN 0.15 ELSE 0.2 END * (0.6 + 0.8 * u_budget), 2)::DECIMAL(12,2) AS budget_inr
FROM d;

CREATE OR REPLACE TABLE raw.campaigns AS
SELECT campaign_id::BIGINT AS campaign_id, name, channel, objective, start_date::DATE AS start_date, end_date::DATE AS end_date,
       budget_inr, coupon_code, discount_pct::INTEGER AS discount_pct,
       start_date::TIMESTAMP - INTERVAL 3 DAY + INTERVAL 10 HOUR AS _loaded_at
FROM _vb_camp
ORDER BY campaign_id;

CREATE TEMP TABLE _vb_camp_days AS
SELECT c.campaign_id, d.day_idx, d.day,
       (row_number() OVER (PARTITION BY d.day_idx ORDER BY c.campaign_id) - 1)::INTEGER AS idx
FROM _vb_camp c JOIN _vb_days d ON d.day BETWEEN c.start_date AND c.end_date;

CREATE TEMP TABLE _vb_camp_n AS
SELECT day_idx, count(*)::INTEGER AS m FROM _vb_camp_days GROUP BY day_idx;

CREATE OR REPLACE TABLE raw.campaign_spend AS
WITH s AS (
  SELECT cd.campaign_id, cd.day AS spend_date, c.channel,
         round(c.budget_inr / c.duration_days * (0.75 + 0.5 * _vb_u2('s_spend', cd.campaign_id, cd.day_idx)), 2)::DECIMAL(12,2) AS spend_inr,
         _vb_u2('s_cpm', cd.campaign_id, cd.day_idx) AS u_cpm,
         _vb_u2('s_ctr', cd.campaign_id, cd.day_idx) AS u_ctr
  FROM _vb_camp_days cd JOIN _vb_camp c USING (campaign_id)
), i AS (
  SELECT s.*,
         floor(spend_inr::DOUBLE * 1000 / CASE channel WHEN 'google' THEN 120 + 100 * u_cpm WHEN 'meta' THEN 80 + 80 * u_cpm
                                   WHEN 'affiliate' THEN 60 + 60 * u_cpm WHEN 'email' THEN 20 + 20 * u_cpm
                                   ELSE 700 + 200 * u_cpm END)::BIGINT AS impressions
  FROM s
)
SELECT row_number() OVER (ORDER BY campaign_id, spend_date) AS spend_id,
       campaign_id::BIGINT AS campaign_id, spend_date::DATE AS spend_date, spend_inr, impressions,
       floor(impressions * CASE channel WHEN 'google' THEN 0.025 + 0.02 * u_ctr WHEN 'meta' THEN 0.008 + 0.008 * u_ctr
                                       WHEN 'affiliate' THEN 0.01 + 0.01 * u_ctr WHEN 'email' THEN 0.015 + 0.02 * u_ctr
                                       ELSE 0.05 + 0.04 * u_ctr END)::BIGINT AS clicks,
       least(spend_date::TIMESTAMP + INTERVAL 1 DAY + INTERVAL 3 HOUR, ${as_of}) AS _loaded_at
FROM i
ORDER BY spend_id`

// sqlOrdersPlan draws every order's header as compact codes (times are
// microseconds since the epoch); totals come after the items. Status codes:
// 1 placed, 2 shipped, 3 delivered, 4 cancelled, 5 returned. Payment method
// codes: 1 UPI, 2 COD, 3 card, 4 wallet, 5 net_banking.
const sqlOrdersPlan = `
CREATE TEMP TABLE _vb_o0 AS
SELECT day_idx, day_us, n_orders, k_cust, k_cust30, cum_start + k + 1 AS order_id, k
FROM (SELECT *, unnest(range(n_orders)) AS k FROM _vb_days);

CREATE TEMP TABLE _vb_ord AS
WITH o AS (
  SELECT * FROM _vb_o0
), oc AS (
  -- Who orders: customers fall into activity classes by id (id % 10 = 3
  -- heavy, 1/5/7 regular, others occasional) and recent sign-ups place
  -- their first orders, so the RFM segments downstream are diverse.
  SELECT o.*, floor(_vb_u('o_cust', order_id) * k_cust)::BIGINT AS base, _vb_u('o_pool', order_id) AS u_pool,
         _vb_u('o_pool_r', order_id) AS u_r
  FROM o
), oc2 AS (
  SELECT oc.*,
         CASE WHEN u_pool < 0.55 THEN base - base % 10 + 3
              WHEN u_pool < 0.80 THEN base - base % 10 + ([1, 5, 7])[1 + floor(u_r * 3)::INTEGER]
              WHEN u_pool < 0.92 THEN base - base % 10 + ([0, 2, 4, 6, 8, 9])[1 + floor(u_r * 6)::INTEGER]
              ELSE k_cust30 + 1 + floor(u_r * (k_cust - k_cust30))::BIGINT END AS cand
  FROM oc
), b AS (
  SELECT order_id, day_idx, day_us,
         (k + _vb_u('o_tod', order_id)) / n_orders * 1000 AS f,
         CASE WHEN cand BETWEEN 1 AND k_cust THEN cand ELSE 1 + base END AS customer_id
  FROM oc2
), t AS (
  SELECT b.order_id, b.day_idx, b.customer_id,
         b.day_us + floor(tod.sec_lo + (b.f - tod.slot) * (tod.sec_hi - tod.sec_lo))::BIGINT * 1000000 AS order_us
  FROM b JOIN _vb_tod tod ON tod.slot = least(floor(b.f)::INTEGER, 999)
), c AS (
  SELECT t.*, cu.city_idx AS cust_city_idx, cu.pin AS cust_pin,
         CASE WHEN _vb_u('o_same_city', order_id) < 0.88 THEN cu.city_idx ELSE cb.city_idx END AS ship_city_idx
  FROM t
  JOIN _vb_cust cu USING (customer_id)
  JOIN _vb_city_bag cb ON cb.slot = floor(_vb_u('o_city', order_id) * 1000)::INTEGER
), g AS (
  SELECT c.order_id, c.day_idx, c.customer_id, c.order_us, c.ship_city_idx, ci.tier,
         CASE WHEN c.ship_city_idx = c.cust_city_idx THEN c.cust_pin
              ELSE ci.pin_base + floor(_vb_u('o_pin', order_id) * ${pin_span})::INTEGER END AS ship_pin,
         CASE WHEN _vb_u('o_wh_overflow', order_id) < 0.88 THEN ci.warehouse_id
              ELSE 1 + floor(_vb_u('o_wh', order_id) * ${n_wh})::INTEGER END AS warehouse_id,
         CASE WHEN cn.m IS NOT NULL AND _vb_u('o_camp', order_id) < 0.22
              THEN floor(_vb_u('o_camp_idx', order_id) * cn.m)::INTEGER END AS camp_idx
  FROM c
  JOIN _vb_cities ci ON ci.city_idx = c.ship_city_idx
  LEFT JOIN _vb_camp_n cn ON cn.day_idx = c.day_idx
), h AS (
  SELECT g.*, cd.campaign_id, k.coupon_code AS camp_coupon, k.discount_pct AS camp_pct,
         _vb_u('o_pm', order_id) AS u_pm, _vb_u('o_coupon', order_id) AS u_coupon,
         floor(_vb_u('o_coupon_idx', order_id) * ${n_coupons})::INTEGER AS coupon_idx,
         _vb_u('o_items', order_id) AS u_items
  FROM g
  LEFT JOIN _vb_camp_days cd ON cd.day_idx = g.day_idx AND cd.idx = g.camp_idx
  LEFT JOIN _vb_camp k ON k.campaign_id = cd.campaign_id
), p AS (
  SELECT h.order_id, h.day_idx, h.customer_id, h.order_us, h.ship_city_idx, h.ship_pin, h.warehouse_id, h.campaign_id, h.tier,
         CASE WHEN u_pm < 0.50 THEN 1 WHEN u_pm < 0.72 THEN 2 WHEN u_pm < 0.88 THEN 3 WHEN u_pm < 0.95 THEN 4 ELSE 5 END AS pm,
         _vb_u('o_ch', order_id) < 0.68 AS is_app,
         CASE WHEN campaign_id IS NOT NULL AND u_coupon < 0.55 THEN camp_coupon
              WHEN campaign_id IS NULL AND u_coupon < 0.07 THEN cp.code END AS coupon_code,
         CASE WHEN campaign_id IS NOT NULL AND u_coupon < 0.55 THEN camp_pct
              WHEN campaign_id IS NULL AND u_coupon < 0.07 THEN cp.pct ELSE 0 END AS coupon_pct,
         CASE WHEN u_items < 0.25 THEN 1 WHEN u_items < 0.55 THEN 2 WHEN u_items < 0.77 THEN 3
              WHEN u_items < 0.90 THEN 4 ELSE 5 END AS n_items
  FROM h JOIN _vb_coupons cp ON cp.idx = h.coupon_idx
), e AS (
  -- Event times, then the status they imply at the end of the data.
  SELECT p.*,
         _vb_u('o_cancel', order_id) < CASE WHEN pm = 2 THEN 0.12 ELSE 0.06 END AS wants_cancel,
         _vb_u('o_return', order_id) < CASE WHEN pm = 2 THEN 0.10 ELSE 0.065 END AS wants_return,
         order_us + (1080 + floor(_vb_u('o_cancel_t', order_id) * 108000))::BIGINT * 1000000 AS cancel_us,
         order_us + (10800 + floor(_vb_u('o_ship_t', order_id) * 144000))::BIGINT * 1000000 AS ship_us
  FROM p
), e2 AS (
  SELECT e.*,
         ship_us + CASE WHEN tier = 1 THEN 64800 + floor(_vb_u('o_deliv_t', order_id) * 194400)
                        ELSE 129600 + floor(_vb_u('o_deliv_t', order_id) * 388800) END::BIGINT * 1000000 AS deliver_us
  FROM e
), e3 AS (
  SELECT e2.*, deliver_us + (86400 + floor(_vb_u('o_return_t', order_id) * 777600))::BIGINT * 1000000 AS return_us
  FROM e2
)
SELECT order_id, day_idx, customer_id, order_us, ship_city_idx, ship_pin, warehouse_id, campaign_id,
       coupon_code, coupon_pct, pm, is_app, n_items,
       CASE WHEN wants_cancel AND cancel_us <= ${as_of_us} THEN 4
            WHEN ship_us > ${as_of_us} THEN 1
            WHEN deliver_us > ${as_of_us} THEN 2
            WHEN wants_return AND return_us <= ${as_of_us} THEN 5
            ELSE 3 END::TINYINT AS st,
       cancel_us, ship_us, deliver_us, return_us
FROM e3`

const sqlOrderItems = `
CREATE OR REPLACE TABLE raw.order_items AS
WITH l AS (
  SELECT o.order_id, o.order_us, o.coupon_pct, d.k_prod, d.is_sale, unnest(range(1, o.n_items + 1)) AS line_number
  FROM _vb_ord o JOIN _vb_days d USING (day_idx)
), p AS (
  SELECT l.*,
         ((floor(${n_prod} * pow(_vb_u2('i_prod', order_id, line_number), 2.5))::BIGINT * ${perm_a} + ${perm_b}) % ${n_prod}) + 1 AS p_cand,
         _vb_u2('i_qty', order_id, line_number) AS u_q
  FROM l
), q AS (
  SELECT p.*, CASE WHEN p_cand <= k_prod THEN p_cand ELSE 1 + (p_cand % k_prod) END AS product_id
  FROM p
), r AS (
  SELECT q.order_id, q.order_us, q.line_number, q.product_id, q.coupon_pct,
         least(CASE WHEN u_q < 0.78 THEN 1 WHEN u_q < 0.93 THEN 2 WHEN u_q < 0.98 THEN 3 ELSE 4 END, pr.qty_max) AS quantity,
         CASE WHEN q.is_sale THEN round(pr.selling_price_inr::DOUBLE * (1 - _vb_u2('i_sale', q.order_id, q.line_number) * pr.sale_extra))
              ELSE pr.selling_price_inr::DOUBLE END AS unit_price
  FROM q JOIN _vb_prod pr USING (product_id)
)
SELECT order_id * 10 + line_number AS order_item_id, order_id, line_number::INTEGER AS line_number,
       product_id::BIGINT AS product_id, quantity::INTEGER AS quantity,
       unit_price::DECIMAL(12,2) AS unit_price_inr,
       round(unit_price * quantity * coupon_pct / 100, 2)::DECIMAL(12,2) AS discount_inr,
       make_timestamp(least(order_us + 120000000, ${as_of_us})) AS _loaded_at
FROM r
ORDER BY order_item_id;

CREATE TEMP TABLE _vb_ord_tot AS
SELECT order_id, sum(unit_price_inr * quantity - discount_inr)::DECIMAL(12,2) AS items_net
FROM raw.order_items GROUP BY order_id`

const sqlOrders = `
CREATE OR REPLACE TABLE raw.orders AS
WITH o AS (
  SELECT o.*, t.items_net, CASE WHEN t.items_net < 499 THEN 40 ELSE 0 END AS fee,
         CASE o.st WHEN 1 THEN o.order_us WHEN 2 THEN o.ship_us WHEN 3 THEN o.deliver_us
                   WHEN 4 THEN o.cancel_us ELSE o.return_us END AS updated_us
  FROM _vb_ord o JOIN _vb_ord_tot t USING (order_id)
)
SELECT o.order_id::BIGINT AS order_id, o.customer_id::BIGINT AS customer_id, make_timestamp(o.order_us) AS order_ts,
       (['placed', 'shipped', 'delivered', 'cancelled', 'returned'])[o.st] AS status,
       CASE WHEN o.is_app THEN 'app' ELSE 'web' END AS channel,
       (['UPI', 'COD', 'card', 'wallet', 'net_banking'])[o.pm] AS payment_method,
       ci.city AS ship_city, ci.state AS ship_state, lpad(o.ship_pin::VARCHAR, 6, '0') AS ship_pincode,
       o.warehouse_id::INTEGER AS warehouse_id, o.campaign_id::BIGINT AS campaign_id, o.coupon_code,
       o.fee::DECIMAL(12,2) AS shipping_fee_inr,
       (o.items_net + o.fee)::DECIMAL(12,2) AS order_total_inr,
       CASE WHEN o.st IN (2, 3, 5) THEN make_timestamp(o.ship_us) END AS shipped_at,
       CASE WHEN o.st IN (3, 5) THEN make_timestamp(o.deliver_us) END AS delivered_at,
       CASE WHEN o.st = 4 THEN make_timestamp(o.cancel_us) END AS cancelled_at,
       make_timestamp(o.updated_us) AS updated_at,
       make_timestamp(least(o.updated_us + 600000000, ${as_of_us})) AS _loaded_at
FROM o JOIN _vb_cities ci ON ci.city_idx = o.ship_city_idx
ORDER BY order_id`

const sqlReturns = `
CREATE OR REPLACE TABLE raw.returns AS
WITH r AS (
  SELECT i.order_item_id, i.order_id, i.quantity, i.unit_price_inr, i.discount_inr, p.parent_id, o.return_us,
         _vb_u('r_reason', i.order_item_id) AS u
  FROM _vb_ord o
  JOIN raw.order_items i ON i.order_id = o.order_id
  JOIN _vb_prod p ON p.product_id = i.product_id
  WHERE o.st = 5 AND (i.line_number = 1 OR _vb_u('r_pick', i.order_item_id) < 0.35)
), x AS (
  SELECT r.*,
         CASE WHEN parent_id = 2 THEN
                CASE WHEN u < 0.45 THEN 'size_issue' WHEN u < 0.60 THEN 'not_as_described' WHEN u < 0.72 THEN 'quality_issue'
                     WHEN u < 0.82 THEN 'changed_mind' WHEN u < 0.90 THEN 'damaged' WHEN u < 0.96 THEN 'wrong_item' ELSE 'late_delivery' END
              ELSE
                CASE WHEN u < 0.22 THEN 'defective' WHEN u < 0.40 THEN 'damaged' WHEN u < 0.58 THEN 'not_as_described'
                     WHEN u < 0.74 THEN 'changed_mind' WHEN u < 0.86 THEN 'quality_issue' WHEN u < 0.95 THEN 'wrong_item' ELSE 'late_delivery' END
         END AS reason
  FROM r
)
SELECT row_number() OVER (ORDER BY order_item_id) AS return_id,
       order_id::BIGINT AS order_id, order_item_id::BIGINT AS order_item_id, reason,
       CASE WHEN reason IN ('damaged', 'defective') THEN 'damaged' ELSE 'resellable' END AS item_condition,
       quantity::INTEGER AS quantity, make_timestamp(return_us) AS returned_at,
       (unit_price_inr * quantity - discount_inr)::DECIMAL(12,2) AS refund_amount_inr,
       make_timestamp(least(return_us + 1800000000, ${as_of_us})) AS _loaded_at
FROM x
ORDER BY return_id`

const sqlPayments = `
CREATE OR REPLACE TABLE raw.payments AS
WITH pv AS (
  SELECT o.order_id, o.pm, o.st, o.order_us, o.cancel_us, o.deliver_us, o.return_us,
         t.items_net + CASE WHEN t.items_net < 499 THEN 40 ELSE 0 END AS total,
         _vb_u('p_prov', o.order_id) AS u_prov
  FROM _vb_ord o JOIN _vb_ord_tot t USING (order_id)
), refunds AS (
  SELECT order_id, sum(refund_amount_inr) AS refund_inr FROM raw.returns GROUP BY order_id
), p AS (
  -- failed attempts before a prepaid payment goes through
  SELECT order_id, pm, u_prov, total AS amount, 1 AS seq,
         order_us + (20 + floor(_vb_u('p_fail_t', order_id) * 100))::BIGINT * 1000000 AS paid_us
  FROM pv
  WHERE pm <> 2 AND _vb_u('p_fail', order_id) < CASE pm WHEN 1 THEN 0.09 WHEN 3 THEN 0.07 ELSE 0.05 END
  UNION ALL
  -- prepaid: captured at checkout
  SELECT order_id, pm, u_prov, total, 2, order_us + (130 + floor(_vb_u('p_ok_t', order_id) * 170))::BIGINT * 1000000
  FROM pv WHERE pm <> 2
  UNION ALL
  -- cash on delivery: collected at the door
  SELECT order_id, pm, u_prov, total, 2, deliver_us
  FROM pv WHERE pm = 2 AND st IN (3, 5)
  UNION ALL
  -- refunds of cancelled prepaid orders
  SELECT order_id, pm, u_prov, total, 3, cancel_us + (86400 + floor(_vb_u('p_ref_t', order_id) * 172800))::BIGINT * 1000000
  FROM pv WHERE pm <> 2 AND st = 4
  UNION ALL
  -- refunds of returned items
  SELECT pv.order_id, pm, u_prov, rf.refund_inr, 3, return_us + (86400 + floor(_vb_u('p_ref_t', pv.order_id) * 345600))::BIGINT * 1000000
  FROM pv JOIN refunds rf USING (order_id) WHERE st = 5
)
SELECT order_id * 10 + seq AS payment_id, order_id::BIGINT AS order_id,
       (['UPI', 'COD', 'card', 'wallet', 'net_banking'])[pm] AS method,
       CASE pm
         WHEN 1 THEN CASE WHEN u_prov < 0.47 THEN 'PhonePe' WHEN u_prov < 0.83 THEN 'Google Pay' WHEN u_prov < 0.92 THEN 'Paytm' ELSE 'BHIM' END
         WHEN 3 THEN CASE WHEN u_prov < 0.40 THEN 'Visa' WHEN u_prov < 0.70 THEN 'Mastercard' WHEN u_prov < 0.95 THEN 'RuPay' ELSE 'Amex' END
         WHEN 4 THEN CASE WHEN u_prov < 0.45 THEN 'Amazon Pay' WHEN u_prov < 0.80 THEN 'Paytm Wallet' ELSE 'MobiKwik' END
         WHEN 5 THEN CASE WHEN u_prov < 0.30 THEN 'SBI' WHEN u_prov < 0.55 THEN 'HDFC Bank' WHEN u_prov < 0.75 THEN 'ICICI Bank'
                          WHEN u_prov < 0.88 THEN 'Axis Bank' ELSE 'Kotak Mahindra Bank' END
         ELSE 'Cash' END AS provider,
       amount::DECIMAL(12,2) AS amount_inr,
       (['failed', 'success', 'refunded'])[seq] AS status,
       make_timestamp(paid_us) AS paid_at,
       make_timestamp(least(paid_us + 300000000, ${as_of_us})) AS _loaded_at
FROM p
WHERE paid_us <= ${as_of_us}
ORDER BY paid_us, payment_id`

// sqlInventory derives stock movements from the orders: every shipped item
// leaves its fulfilment centre, resellable returns come back, and receipts
// replenish each product at the start of every fortnight in proportion to
// its sales. Type ranks: 1 receipt, 2 sale, 3 return, 4 adjustment.
// movement_id is unique by construction (no global numbering pass):
// id*4 + type-1, where id is the order item for sales and returns and
// (product_id*8 + warehouse_id)*32 + fortnight for receipts and adjustments.
const sqlInventory = `
CREATE OR REPLACE TABLE raw.inventory_movements AS
WITH sales AS (
  SELECT o.warehouse_id, i.product_id, o.ship_us AS ts_us, i.quantity, i.order_item_id,
         ((o.ship_us - ${anchor_us}) // 1209600000000)::INTEGER AS period
  FROM _vb_ord o JOIN raw.order_items i ON i.order_id = o.order_id
  WHERE o.st IN (2, 3, 5)
), pairs AS (
  SELECT w.warehouse_id, p.product_id, greatest(epoch_us(p.launched_at::TIMESTAMP), ${anchor_us}) AS from_us
  FROM raw.warehouses w CROSS JOIN _vb_prod p
), per AS (
  SELECT warehouse_id, product_id, period, sum(quantity) AS sold
  FROM sales GROUP BY ALL
), m AS (
  -- opening stock: a few units plus part of the first fortnight's demand
  SELECT ((pairs.product_id * 8 + pairs.warehouse_id) * 32) * 4 + 0 AS movement_id, pairs.warehouse_id, pairs.product_id,
         from_us + (1800 + floor(_vb_u2('m_open_t', pairs.warehouse_id, pairs.product_id) * 7200))::BIGINT * 1000000 AS ts_us,
         1 AS type_rank,
         (floor(_vb_u2('m_open', pairs.warehouse_id, pairs.product_id) * 4)
           + ceil(coalesce(p0.sold, 0) * (0.3 + 0.9 * _vb_u2('m_open_f', pairs.warehouse_id, pairs.product_id))))::INTEGER AS quantity,
         NULL::BIGINT AS reference_id
  FROM pairs
  LEFT JOIN per AS p0 ON p0.warehouse_id = pairs.warehouse_id AND p0.product_id = pairs.product_id AND p0.period = 0
  UNION ALL
  -- replenishment at the start of each fortnight, sized on its sales; the
  -- last weeks of the year are replenished unevenly, so year-end stock
  -- ranges from out of stock to overstocked
  SELECT ((per.product_id * 8 + per.warehouse_id) * 32 + per.period + 1) * 4 + 0, per.warehouse_id, per.product_id,
         greatest(${anchor_us} + per.period * 1209600000000, pairs.from_us)
           + (1800 + floor(_vb_u2('m_rcpt_t', per.warehouse_id, per.product_id * 64 + per.period) * 7200))::BIGINT * 1000000,
         1,
         ceil(per.sold * CASE WHEN per.period >= 24 THEN 1.7 * _vb_u2('m_rcpt', per.warehouse_id, per.product_id * 64 + per.period)
                              ELSE 0.85 + 0.35 * _vb_u2('m_rcpt', per.warehouse_id, per.product_id * 64 + per.period) END)::INTEGER,
         NULL
  FROM per JOIN pairs USING (warehouse_id, product_id)
  UNION ALL
  SELECT order_item_id * 4 + 1, warehouse_id, product_id, ts_us, 2, -quantity, order_item_id FROM sales
  UNION ALL
  -- resellable returns are restocked two days after pickup
  SELECT r.order_item_id * 4 + 2, o.warehouse_id, i.product_id, epoch_us(r.returned_at) + 172800000000, 3, r.quantity, r.order_item_id
  FROM raw.returns r
  JOIN raw.order_items i ON i.order_item_id = r.order_item_id
  JOIN _vb_ord o ON o.order_id = r.order_id
  WHERE r.item_condition = 'resellable' AND epoch_us(r.returned_at) + 172800000000 <= ${as_of_us}
  UNION ALL
  -- stock-count adjustments: mostly shrinkage and damage, sometimes found stock
  SELECT ((product_id * 8 + warehouse_id) * 32) * 4 + 3, warehouse_id, product_id,
         from_us + (floor(_vb_u2('m_adj_d', warehouse_id, product_id) * ((${as_of_us} - from_us) // 86400000000))::BIGINT * 86400 + 75600) * 1000000,
         4,
         CASE WHEN _vb_u2('m_adj_s', warehouse_id, product_id) < 0.75 THEN -(1 + floor(_vb_u2('m_adj_q', warehouse_id, product_id) * 3))
              ELSE 1 + floor(_vb_u2('m_adj_q', warehouse_id, product_id) * 2) END::INTEGER,
         NULL
  FROM pairs
  WHERE _vb_u2('m_adj', warehouse_id, product_id) < 0.03
)
SELECT movement_id::BIGINT AS movement_id, warehouse_id::INTEGER AS warehouse_id, product_id::BIGINT AS product_id,
       make_timestamp(ts_us) AS movement_ts,
       (['receipt', 'sale', 'return', 'adjustment'])[type_rank] AS movement_type,
       quantity::INTEGER AS quantity, reference_id,
       make_timestamp(least(ts_us + 300000000, ${as_of_us})) AS _loaded_at
FROM m
ORDER BY ts_us, movement_id`
