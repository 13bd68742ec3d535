#[jsloop::main]
const async fn main() {}
