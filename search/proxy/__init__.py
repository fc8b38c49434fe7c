"""The proxy: data sets (`search.proxy.data`) and short-schedule training (`search.proxy.train`).

The proxy accuracy of a candidate is its validation accuracy after a short, seeded training run
(`search.proxy.train.ProxySchedule`); export uses the same loop to retrain a chosen network.
"""
