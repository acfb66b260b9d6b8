//! Temporary stand-in while the collectors land.
use wardwatch_proto::{EventBody, Inventory};
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct CollectError;
pub fn collect_inventory() -> Result<Inventory, CollectError> {
    Ok(Inventory::default())
}
pub fn diff_inventory(_a: &Inventory, _b: &Inventory) -> Vec<EventBody> {
    Vec::new()
}
