-- Multi-node scale-out (docs/operations.md, "Running several nodes"): which node is alive, which node holds each
-- station's socket, periodic jobs claimed by one node per period, and the bodies of cluster messages too large
-- for a NOTIFY payload. Times are the database's clock (now()), so that nodes with skewed clocks still agree.

-- One row per running node; a node renews expires_at with its heartbeat. A node whose row expired is dead: its
-- station_presence rows no longer count, and another node may take its job claims.
create table cluster_nodes (
  node_id text primary key,
  started_at timestamptz not null,
  heartbeat_at timestamptz not null,
  expires_at timestamptz not null
);

-- Where each station's socket lives. A station reconnecting to another node moves its row there (upsert); a node
-- removes only the rows it owns, so a late close on the old node cannot erase the station's new home.
create table station_presence (
  station_id text primary key,
  node_id text not null,
  protocol text not null,
  connected_at timestamptz not null,
  last_seen_at timestamptz not null
);
create index station_presence_node on station_presence (node_id);

-- Periodic jobs that must run once per period across all nodes (reconciliation, the 2.0.1 overdue sweep): the
-- node that moves next_run_at forward in one UPDATE owns that period's run.
create table cluster_jobs (
  name text primary key,
  next_run_at timestamptz not null,
  last_node_id text,
  last_claimed_at timestamptz
);

-- Bodies of cluster messages larger than a NOTIFY payload may be (8000 bytes): the NOTIFY carries only the id.
-- The receiver deletes the row it read; heartbeats delete rows nobody read within an hour.
create table cluster_messages (
  id bigserial primary key,
  body text not null,
  created_at timestamptz not null default now()
);
create index cluster_messages_created on cluster_messages (created_at);
