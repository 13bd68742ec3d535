// Errors in the body point at the user's code, not at the attribute.

#[jsloop::main]
async fn main() -> Result<(), String> {
    let n: u32 = "not a number";
    jsloop::time::sleep(std::time::Duration::from_millis(n.into())).await;
    Ok(())
}
