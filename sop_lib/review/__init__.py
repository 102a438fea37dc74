"""Review (workbook 04 and the meeting): accuracy and value added against actuals, the KPI scorecard, the
decision priority log. Imports the domain folders below it (``core`` … ``finance``)."""
