//! pelab-hdl: RTL of every PE (rust-hdl), Verilog emission, lint and Yosys flows.
