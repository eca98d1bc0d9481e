"""Pure rules of an order's after-shipment life: no I/O, no Temporal."""
