"""Blueprints, one per audience: public, auth, merchant, staff, api."""
