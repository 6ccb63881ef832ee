def dunnett_p(statistics, correlation, df):  # TEMP STUB
    raise NotImplementedError
