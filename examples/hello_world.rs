//! The `set_after` example of Python's asyncio documentation
//! (library/asyncio-future.html), in Rust:
//!
//! ```python
//! async def set_after(fut, delay, value):
//!     await asyncio.sleep(delay)
//!     fut.set_result(value)
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     fut = loop.create_future()
//!     loop.create_task(set_after(fut, 1, '... world'))
//!     print('hello ...')
//!     print(await fut)
//!
//! asyncio.run(main())
//! ```
//!
//! It prints `hello ...` and, one second later (a timer on the loop, not a
//! blocking sleep), `... world`.

use asyncio_future::{get_running_loop, sleep, Future, FutureError};

async fn set_after(fut: Future<String>, delay: f64, value: &str) -> Result<(), FutureError> {
    sleep(delay).await?;
    fut.set_result(value.to_owned())
}

async fn main_task() -> Result<(), FutureError> {
    let lp = get_running_loop()?;
    let fut = lp.create_future::<String>();
    lp.create_task(set_after(fut.clone(), 1.0, "... world"))?;
    println!("hello ...");
    println!("{}", fut.await?);
    Ok(())
}

fn main() -> Result<(), FutureError> {
    asyncio_future::run(main_task())
}
