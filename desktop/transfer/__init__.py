"""Moving residents in and out as Excel workbooks: roster import, list export, error workbooks.

Qt-free. openpyxl is imported only inside these modules' functions or by importing them,
never at application start-up.
"""
