#[jsloop::test]
fn needs_async() {}

fn main() {}
