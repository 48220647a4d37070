//! dtops' dns_answer parser on arbitrary input (see dtops::fuzzing::dns_answer).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dtops::fuzzing::dns_answer(data));
