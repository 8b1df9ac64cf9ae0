//! Black-box tests of the built `urbackend` binary.
//!
//! The data-plane issue fills this package: tests start the binary on a free loopback port with a
//! temporary data directory and talk to it only over HTTP and the command line (the route × key
//! role × RLS mode authorization table, restarts, two servers on one store, the MongoDB lane).
