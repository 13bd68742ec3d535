#[jsloop::test(block_on, virtual_time, block_on)]
async fn twice() {}

fn main() {}
