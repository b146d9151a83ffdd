"""Payment methods: Kill Bill payment methods as Hyperswitch customers, saved payment methods and mandates."""
