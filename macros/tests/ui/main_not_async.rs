#[jsloop::main]
fn main() {}
