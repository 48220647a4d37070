//! dtops' certbot_output parser on arbitrary input (see dtops::fuzzing::certbot_output).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dtops::fuzzing::certbot_output(data));
