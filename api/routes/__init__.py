"""API routers; api.main includes each one."""
