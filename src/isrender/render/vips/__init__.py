"""The only package that imports pyvips: headers, plan execution, encoders, text and masks."""
