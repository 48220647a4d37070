//! dtops' nginx_output parser on arbitrary input (see dtops::fuzzing::nginx_output).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dtops::fuzzing::nginx_output(data));
