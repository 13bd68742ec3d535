#[jsloop::test]
async unsafe fn dangerous() {}

fn main() {}
