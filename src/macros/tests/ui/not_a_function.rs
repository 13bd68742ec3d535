#[jsloop::main]
struct Main;

fn main() {}
