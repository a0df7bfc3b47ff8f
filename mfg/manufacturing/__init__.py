"""Manufacturing: materials, cultures and passages, pools, harvest, doses, storage."""
