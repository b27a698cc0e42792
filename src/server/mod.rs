//! Sockets and tasks for clients: the accept loop, one task per connection, the cron.

pub mod connection;
pub mod cron;
pub mod listener;
pub mod signals;
