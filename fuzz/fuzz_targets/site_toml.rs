//! dtops' site_toml parser on arbitrary input (see dtops::fuzzing::site_toml).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dtops::fuzzing::site_toml(data));
