// The body's output must be the function's return type; the error points
// at the body's last statement.

#[jsloop::main]
async fn count() -> u32 {
    jsloop::yield_now().await;
    "seven"
}

#[jsloop::main]
async fn forgets_ok() -> std::io::Result<()> {
    jsloop::fs::read("Cargo.toml").await?;
    println!("read it");
}

fn main() {
    count();
    forgets_ok().unwrap();
}
