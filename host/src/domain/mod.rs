//! The game-server domain every plugin speaks about: eggs and the rules on their
//! variables (nodes, servers and users arrive with the panel-core work).

pub mod eggs;
pub mod networks;
pub mod rules;
pub mod vocabulary;
pub mod wings_wire;
