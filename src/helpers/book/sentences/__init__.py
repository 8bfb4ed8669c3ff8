"""The sentences the book prints, one module per chapter (the numbers come from result objects)."""
