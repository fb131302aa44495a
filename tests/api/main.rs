//! The one integration-test binary: the real app on a random port, a fresh SQLite file and data
//! folder per test, and a fake fal per test.

mod account;
mod architecture;
mod audio;
mod auth;
mod binary;
mod catalog;
mod cluster;
mod connections;
mod cross_user;
mod events_across_nodes;
mod exposure;
mod fresh_across_nodes;
mod gallery;
mod generations;
mod helpers;
mod leases;
mod limits;
mod migrate;
#[path = "../support/moto.rs"]
mod moto;
mod openapi;
mod ops;
mod outbound;
mod recovery;
mod reliability;
mod s3;
mod s3_credentials;
mod shares;
mod startup;
mod storage_contract;
mod storage_s3;
mod teams;
mod throttles;
mod thumbnails;
mod web;
