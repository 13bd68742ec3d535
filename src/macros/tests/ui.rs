//! The attributes' compile errors: each case in `tests/ui/` must fail to
//! compile with exactly the messages of its `.stderr` (after a change to a
//! message, regenerate them with `TRYBUILD=overwrite` and read them).

#[test]
fn compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
