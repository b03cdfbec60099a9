//! Integration tests of mamoru-core: one binary, one module per concern.

mod audit;
mod authz;
mod clocks;
mod crash;
mod search;
mod store;
mod support;
