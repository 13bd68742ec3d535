const THREADS: usize = 2;

#[jsloop::test(worker_threads = THREADS)]
async fn pooled() {}

fn main() {}
