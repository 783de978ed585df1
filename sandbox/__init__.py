"""Simulated OMS, ERP, WMS and TMS for the demo and the tests.

The product reaches them only over HTTP, like a customer's real systems; nothing here imports the product.
"""
