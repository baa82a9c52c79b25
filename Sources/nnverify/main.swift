print("nnverify")
