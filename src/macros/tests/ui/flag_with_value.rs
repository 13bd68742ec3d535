#[jsloop::test(virtual_time = true)]
async fn paused() {}

fn main() {}
